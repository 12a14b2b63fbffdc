// The status card (card.html): what the collector's published reports say about one country
// over the last 24 hours (platform blocks, and outages and slowdowns of the network itself), for an article (embed.js with data-card="PK", or an iframe of
// card.html?cc=PK). It reads only the public API of this site (disruptions, aggregates, the
// default campaign for the platforms' names): no probe, no Wasm, nothing sent, so it needs no
// consent. It refreshes every few minutes, changing the page (and what screen readers
// announce) only when what it says has changed.

import * as i18n from "./i18n.js";
import { t, say } from "./i18n.js";
import { summary, certainty, networkWide, window_, WINDOW_HOURS } from "./status.js";

const REFRESH_MS = 5 * 60 * 1000;
/** Lines shown before "and N more": the card stays small in an article. */
const MAX_LINES = 4;

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const cc = (query.get("cc") || "").trim().toUpperCase();
const platform = (query.get("platform") || "").trim().toLowerCase();

// The last answer, drawn again when the language changes; the text last drawn.
let last = null;
let drawn = "";

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.textContent = text;
  return node;
}

/** A public JSON answer of this site, or an error carrying the collector's own message. */
async function json(path, params) {
  const url = new URL(path, location.href);
  for (const [k, v] of Object.entries(params)) if (v) url.searchParams.set(k, v);
  const response = await fetch(url, { credentials: "omit", cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return body;
}

/** An hour in the visitor's time zone and locale, with the zone's name, and the day when it is
 *  not today. */
function when(ms) {
  const today = new Date().toDateString() === new Date(ms).toDateString();
  const day = today ? {} : { day: "numeric", month: "short" };
  return i18n.dateTime(ms, { ...day, hour: "2-digit", minute: "2-digit", timeZoneName: "short" });
}

function where(line) {
  if (line.scope === "global") return t("card.most_countries");
  if (line.scope === "country") return t("card.across_country");
  if (line.networks.length === 1) return t("card.on_network", { asn: `AS${line.networks[0]}` });
  return t("card.on_networks", { n: line.networks.length });
}

// An outage or slowdown of the network itself in words: its own sentence ("Internet outage on
// 2 networks since 21:00 GMT+5."), not a platform's verdict.
const NETWORK_WORDS = {
  outage: { since: "card.outage_since", between: "card.outage_between", note: "card.outage_note" },
  slowdown: { since: "card.slowdown_since", between: "card.slowdown_between", note: "card.slowdown_note" },
};

function item(line, names) {
  const wide = networkWide(line);
  const words = wide ? NETWORK_WORDS[line.verdict] : { since: "card.since", between: "card.between" };
  const args = {
    platforms: i18n.list(line.platforms.map((id) => names.get(id) || id)),
    verdict: wide ? "" : t(`verdict.${line.verdict}`),
    where: where(line),
  };
  const what = line.end === null
    ? t(words.since, { ...args, time: when(line.start) })
    : t(words.between, { ...args, start: when(line.start), end: when(line.end) });
  const li = el("li", { "data-scope": line.scope, "data-verdict": line.verdict, "data-kind": wide ? "network" : "platforms" }, "");
  li.append(el("p", { class: "what" }, what));
  const country = i18n.country(cc);
  if (line.scope === "global") {
    li.append(el("p", { class: "small" }, t(wide ? "card.global_network_note" : "card.global_note", { country })));
  } else if (wide) {
    li.append(el("p", { class: "small" }, t(words.note)));
  }
  li.append(el("p", { class: "detail" }, t("card.detail", { sure: t(certainty(line.confidence)), n: line.senders })));
  if (line.volume !== null && line.volume !== undefined) {
    const ratio = i18n.number(line.volume, { maximumFractionDigits: 1 });
    li.append(el("p", { class: "detail" }, t("card.volume", { ratio })));
  }
  return li;
}

/** Draws the last answer in the current language; touches the page only when its text changed. */
function draw() {
  const country = i18n.country(cc);
  const s = summary(last.events, last.cells);
  const args = { country, total: WINDOW_HOURS };
  const headline = {
    disrupted: t("card.disrupted", args),
    clear: t("card.clear", args),
    thin: t("card.thin", args),
  }[s.state];
  const items = s.lines.slice(0, MAX_LINES).map((line) => item(line, last.names));
  if (s.lines.length > MAX_LINES) items.push(el("li", { class: "muted" }, t("card.more", { n: s.lines.length - MAX_LINES })));
  const basis = s.reports
    ? t("card.basis", { n: s.reports, hours: s.hours, total: WINDOW_HOURS, time: when(s.latest) })
    : t("card.thin_why", { n: last.k });
  const text = [headline, ...items.map((li) => li.textContent), basis].join("\n");
  if (text !== drawn) {
    drawn = text;
    $("headline").textContent = headline;
    $("events").replaceChildren(...items);
    $("basis").textContent = basis;
  }
  say($("updated"), "card.updated", { time: when(last.at), n: REFRESH_MS / 60000 });
  document.body.dataset.state = s.state;
}

function fail(key, args) {
  drawn = "";
  $("headline").textContent = t(key, args);
  $("events").replaceChildren();
  $("basis").textContent = "";
  document.body.dataset.state = "error";
}

async function names() {
  try {
    const campaign = await json("/v1/campaigns/default", {});
    return new Map(campaign.platforms.map((p) => [p.id, p.name]));
  } catch {
    return new Map();
  }
}

async function refresh(platforms) {
  const { from, to } = window_(Date.now());
  const range = { cc, platform, from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  try {
    const [disruptions, aggregates] = await Promise.all([
      json("/v1/disruptions", range),
      json("/v1/aggregates", { ...range, bucket: "hour" }),
    ]);
    last = { events: disruptions.disruptions, cells: aggregates.cells, k: aggregates.k, names: await platforms, at: Date.now() };
    // A collector serving demo data (--demo) marks its answers: the card says so first.
    $("synthetic").hidden = !(disruptions.synthetic || aggregates.synthetic);
    draw();
  } catch (error) {
    // A failed refresh keeps what was shown, with its time; only a card with nothing says so.
    if (!last) fail("card.error", { detail: error.message, n: REFRESH_MS / 60000 });
  }
}

function links() {
  const details = new URL($("details").getAttribute("href"), location.href);
  details.searchParams.set("cc", cc);
  details.searchParams.set("range", "1");
  $("details").setAttribute("href", details.pathname + details.search);
}

async function start() {
  await i18n.start();
  if (!/^[A-Z]{2}$/.test(cc)) return fail("card.bad_country");
  const country = i18n.country(cc);
  links();
  const platforms = names();
  if (platform) {
    const known = await platforms;
    // Without the campaign (a collector that serves none) the id is all there is to go on.
    if (known.size && !known.has(platform)) return fail("card.bad_platform", { platform });
    say($("heading"), "card.heading_platform", { platform: known.get(platform) || platform, country });
  } else {
    say($("heading"), "card.heading", { country });
  }
  i18n.onChange(() => {
    if (last) draw();
  });
  await refresh(platforms);
  setInterval(() => refresh(platforms), REFRESH_MS);
}

// Inside a frame, tell the embedding page (embed.js) the card's height, in coarse steps and to
// its origin only (embed-height.js), so that its frame fits without following every change.
if (window.parent !== window) {
  import("./embed-height.js").then(({ reportHeight }) => {
    const post = reportHeight(window, () => document.body.getBoundingClientRect().height);
    new ResizeObserver(post).observe(document.body);
  });
}

start();
