// What the status card (card.html) says about one country, from the collector's public
// answers: the events of GET /v1/disruptions (platform blocks, and outages and slowdowns of the
// network itself), and the published hour cells of GET /v1/aggregates, which say how many
// reports "nothing detected" rests on. Pure (no DOM, no
// fetch, no words: message keys and their arguments), so that tests/card_status.rs runs it in
// Node.js.

/** The card looks back this far: events under way or ended since, and the reports behind it. */
export const WINDOW_HOURS = 24;
const HOUR = 3600 * 1000;

/** Start of the card's window (a whole hour, so that every card of the hour asks the same
 *  question and the collector answers it from its cache) and its end. */
export function window_(now) {
  const to = Math.floor(now / HOUR) * HOUR + HOUR;
  return { from: to - WINDOW_HOURS * HOUR, to };
}

/** The detection's confidence in words. It fires at 0.9 (p = 10⁻⁴) and adds a nine for each
 *  factor of 10⁴ in the evidence (collector/src/disruptions.rs). */
export function certainty(confidence) {
  if (confidence >= 0.999) return "card.sure_overwhelming";
  if (confidence >= 0.99) return "card.sure_very_strong";
  return "card.sure_strong";
}

const SCOPES = ["country", "network", "global"];

/** Verdicts of events about the network itself (its reference sites failed or slowed too),
 *  which name no platform (issue #13). */
export const NETWORK_VERDICTS = ["outage", "slowdown"];

/** Whether an event (or a line) is about the network itself rather than some platforms. */
export function networkWide(event) {
  return NETWORK_VERDICTS.includes(event.verdict);
}

/** The more cautious of two volume figures (tests over the usual number): evidence that only
 *  supports an event, so a merged line claims no more of it than its weakest part, and none
 *  when a part has none (one network's surge is not the others'). */
function lower(a, b) {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  return Math.min(a, b);
}

/**
 * Lines of the card from the events of `/v1/disruptions`: events under way first, then the
 * most recent; within them the country's own before global ones (a platform outage, which
 * says nothing of the country), outages then slowdowns of the network itself before platform
 * blocks (they explain them), then country-wide before per network. A
 * platform blocked on several networks is one line ("on 3 networks"), and so is an outage:
 * network events of the same platforms, verdict and state (under way or ended) are merged,
 * with the earliest start, the latest end, the lowest confidence and volume and the senders
 * summed.
 */
export function lines(events) {
  const merged = new Map();
  for (const e of events) {
    const ongoing = e.end === null;
    const key = e.scope === "network"
      ? ["network", e.verdict, e.platforms.join(","), ongoing].join("|")
      : [e.scope, e.verdict, e.platforms.join(","), e.start, e.end].join("|");
    const start = Date.parse(e.start);
    const end = ongoing ? null : Date.parse(e.end);
    const line = merged.get(key);
    if (!line) {
      merged.set(key, {
        scope: e.scope, verdict: e.verdict, platforms: e.platforms, start, end,
        networks: e.asn === null ? [] : [e.asn], confidence: e.confidence, senders: e.senders,
        volume: e.volume ?? null,
      });
      continue;
    }
    line.volume = lower(line.volume, e.volume);
    line.start = Math.min(line.start, start);
    if (end !== null) line.end = Math.max(line.end, end);
    if (e.asn !== null && !line.networks.includes(e.asn)) line.networks.push(e.asn);
    line.confidence = Math.min(line.confidence, e.confidence);
    line.senders += e.senders;
  }
  const global = (line) => (line.scope === "global" ? 1 : 0);
  // An outage, then a slowdown, then platforms: the most severe first.
  const platform = (line) => (networkWide(line) ? NETWORK_VERDICTS.indexOf(line.verdict) : NETWORK_VERDICTS.length);
  return [...merged.values()].sort((a, b) =>
    (a.end === null ? 0 : 1) - (b.end === null ? 0 : 1)
    || global(a) - global(b)
    || platform(a) - platform(b)
    || SCOPES.indexOf(a.scope) - SCOPES.indexOf(b.scope)
    || (b.end ?? b.start) - (a.end ?? a.start)
    || b.start - a.start);
}

/**
 * What the published cells of the window say: reports (every report has one verdict per
 * platform it tested, so the busiest platform's sum counts reports without counting one
 * twice), the hours with published cells and the latest of them.
 */
export function basis(cells) {
  const perPlatform = new Map();
  const hours = new Set();
  for (const c of cells) {
    perPlatform.set(c.platform, (perPlatform.get(c.platform) || 0) + c.reports);
    hours.add(Date.parse(c.bucket));
  }
  return {
    reports: Math.max(0, ...perPlatform.values()),
    hours: hours.size,
    latest: hours.size ? Math.max(...hours) : null,
  };
}

/**
 * The card's verdict on the country: `disrupted` with an event of its own (network or
 * country-wide, a platform block or an outage or slowdown of the network itself), `clear` when its published reports show none, `thin` when no hour of the
 * window has enough senders to be published (the detection had nothing to go on, and the card
 * says so instead of "no disruption"). A global event is a platform outage, shown as such,
 * and never makes the country `disrupted`.
 */
export function summary(events, cells) {
  const shown = lines(events);
  const known = basis(cells);
  const own = shown.some((line) => line.scope !== "global");
  const state = own ? "disrupted" : known.reports ? "clear" : "thin";
  return { state, lines: shown, ...known };
}
