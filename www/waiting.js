// Reports that wait for the network: a report the visitor chose to send (they pressed Submit)
// that could not reach the collector is kept in this browser's localStorage, and nothing
// else is: each entry is the report exactly as shown and the collector address it was meant
// for, no identifier, no address, no time of its own (the run's hour is in the report). It
// is sent again when the browser comes back online, on the next visit to the page or when
// the visitor asks, and it leaves the browser once the collector took it, refused it, it
// became too old for the collector, or the visitor deleted it.
//
// No DOM here: app.js draws the list; tests/waiting.rs runs this module in Node.js.

/** How old a run the collector still takes: `intake::MAX_AGE_SECS` (30 days) of
 *  collector/src/intake.rs; collector/tests/waiting_age.rs checks that both agree. */
export const MAX_AGE_MS = 30 * 86_400 * 1000;

const KEY = "netreach-waiting";

/** Whether a failed `submit` may succeed later, from its `status` (see src/api.rs): no
 *  answer (0), the collector busy or down (5xx), a stalled body (408), the network's
 *  allowance used (429), or a 2xx that is not the collector's JSON (a captive portal's or a
 *  censor's page). Any other 4xx is the collector refusing this report: sending it again
 *  would be refused again. An error without a status is not a sending failure. */
export function mayRetry(error) {
  const status = error && typeof error.status === "number" ? error.status : null;
  if (status === null) return false;
  return status === 0 || status === 408 || status === 429 || status >= 500 || (status >= 200 && status < 300);
}

/** The waiting reports of one browser storage. `storage` returns window.localStorage; it is a
 *  function because reading that property throws where the browser forbids storage (a
 *  third-party frame with storage blocked, some private modes). */
export class WaitingReports {
  constructor(storage) {
    this.storage = storage;
  }

  /** The waiting entries, `{collector, report}`, oldest first; none when storage is denied or
   *  holds something else under the key. */
  list() {
    try {
      const text = this.storage().getItem(KEY);
      const entries = text ? JSON.parse(text) : [];
      return Array.isArray(entries) ? entries.filter(isEntry) : [];
    } catch {
      return [];
    }
  }

  /** Keeps `report` (the object run() resolved with) for `collector`; false when this browser
   *  does not let the page keep it (storage denied or full). */
  keep(collector, report) {
    const entry = { collector, report };
    const entries = this.list().filter((e) => !same(e, entry));
    entries.push(entry);
    return this.write(entries);
  }

  /** Takes `entry` out (deleted by the visitor, sent, refused or too old). */
  remove(entry) {
    this.write(this.list().filter((e) => !same(e, entry)));
  }

  write(entries) {
    try {
      const storage = this.storage();
      if (entries.length) storage.setItem(KEY, JSON.stringify(entries));
      else storage.removeItem(KEY);
      return true;
    } catch {
      return false;
    }
  }
}

function isEntry(e) {
  return e && typeof e.collector === "string" && e.report && typeof e.report === "object";
}

function same(a, b) {
  return a.collector === b.collector && JSON.stringify(a.report) === JSON.stringify(b.report);
}

/** Whether the collector would refuse the run as too old (started_at is a whole UTC hour). */
export function tooOld(report, now) {
  const started = Date.parse(report.started_at);
  return Number.isFinite(started) && now - started > MAX_AGE_MS;
}

/**
 * Sends every waiting report with `submit(report, collector)` (the engine's), oldest first,
 * and resolves with what became of each: `{entry, outcome: "sent", id}`, `{entry, outcome:
 * "refused", detail}` (taken out), `{entry, outcome: "expired"}` (too old, taken out without
 * sending) or `{entry, outcome: "waiting", detail}` (kept; the rest are not tried, the network
 * that failed it would fail them too). Tabs take turns through a Web Lock where the browser
 * has them, so two open pages never send the same report.
 */
export async function sendWaiting(box, submit, now = Date.now()) {
  const locks = globalThis.navigator && globalThis.navigator.locks;
  const send = async () => {
    const outcomes = [];
    for (const entry of box.list()) {
      if (tooOld(entry.report, now)) {
        box.remove(entry);
        outcomes.push({ entry, outcome: "expired" });
        continue;
      }
      try {
        const answer = await submit(entry.report, entry.collector);
        box.remove(entry);
        outcomes.push({ entry, outcome: "sent", id: String(answer.id) });
      } catch (error) {
        const detail = error && error.message ? error.message : String(error);
        if (mayRetry(error)) {
          outcomes.push({ entry, outcome: "waiting", detail });
          break;
        }
        box.remove(entry);
        outcomes.push({ entry, outcome: "refused", detail });
      }
    }
    return outcomes;
  };
  return locks ? locks.request(KEY, send) : send();
}
