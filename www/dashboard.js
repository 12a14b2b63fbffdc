// The netreach dashboard: first the disruptions detected now or recently (GET /v1/disruptions:
// platform blocks, and outages and slowdowns of the network itself, shown apart),
// then verdict shares over time per platform, for one country and network, from the
// collector's k-anonymous aggregates (GET /v1/aggregates), with the events shaded on them.
// No external resources.
// Words come from the catalogs (i18n.js); hours are shown in the visitor's time zone, days as
// the UTC days the collector counts.

import * as i18n from "./i18n.js";
import { t, say } from "./i18n.js";

const VERDICTS = ["reachable", "throttled", "partial", "blocked", "inconclusive"];
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const controls = { campaign: $("campaign"), cc: $("cc"), asn: $("asn"), range: $("range"), bucket: $("bucket") };

// What was fetched last, drawn again when the language changes.
let last = null;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** A bucket's start: an hour in the visitor's time zone, a day as the UTC day it counts. */
function label(ms, bucket) {
  return bucket === "day"
    ? i18n.dateTime(ms, { dateStyle: "medium", timeZone: "UTC" })
    : i18n.dateTime(ms, { dateStyle: "short", timeStyle: "short" });
}

function timeZone() {
  return new Intl.DateTimeFormat(i18n.currentLocale()).resolvedOptions().timeZone;
}

/** "12 reachable (50%), 3 blocked (13%)" in the visitor's words and list style. */
function shares(row) {
  return i18n.list(VERDICTS.filter((v) => row[v]).map((v) =>
    t("dash.share", { verdict: t(`verdict.${v}`), share: i18n.percent(row[v], row.reports) })));
}

/** The time window: whole buckets, ending with the current one. */
function window_(rangeDays, bucket) {
  const step = bucket === "day" ? DAY : HOUR;
  const to = Math.floor(Date.now() / step) * step + step;
  const from = to - Math.max(rangeDays * DAY, step);
  return { from, to, step };
}

// Event words, looked up by wire name (the catalogs' keys written out, so tests find them).
const EVENT_VERDICT = { blocked: "dash.event_blocked", throttled: "dash.event_throttled", partial: "dash.event_partial" };
const EVENT_PLACE = { network: "dash.event_network", country: "dash.event_country", global: "dash.event_global" };
// Outages and slowdowns of the network itself (issue #13): they name no platform, and a
// "global" one is more likely a fault of the test or the collector than of every network.
const NETWORK_EVENT = { outage: "dash.event_outage", slowdown: "dash.event_slowdown" };
const NETWORK_EVIDENCE = { outage: "dash.evidence_outage", slowdown: "dash.evidence_slowdown" };
const NETWORK_PLACE = { ...EVENT_PLACE, global: "dash.event_global_network" };

function networkWide(e) {
  return e.verdict in NETWORK_EVENT;
}

async function aggregates(params) {
  return api("/v1/aggregates", params);
}

async function api(path, params) {
  const url = new URL(path, location.href);
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== undefined) url.searchParams.set(k, v);
  const response = await fetch(url, { credentials: "omit", cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
  return { body, url };
}

/** Sums cells per (bucket, platform): "all networks" adds up the networks' published cells. */
function combine(cells) {
  const rows = new Map();
  for (const cell of cells) {
    const key = `${cell.bucket}\u0000${cell.platform}`;
    let row = rows.get(key);
    if (!row) {
      row = { bucket: Date.parse(cell.bucket), platform: cell.platform, reports: 0 };
      for (const v of VERDICTS) row[v] = 0;
      rows.set(key, row);
    }
    row.reports += cell.reports;
    for (const v of VERDICTS) row[v] += cell[v];
  }
  return [...rows.values()];
}

/** Published reports per key (country or network): every report has one verdict per platform,
 *  so the busiest platform's sum counts the reports without counting one report twice. */
function reportsBy(cells, key) {
  const perPlatform = new Map();
  for (const c of cells) {
    const k = `${key(c)}\u0000${c.platform}`;
    const entry = perPlatform.get(k) || { id: key(c), n: 0 };
    entry.n += c.reports;
    perPlatform.set(k, entry);
  }
  const out = new Map();
  for (const { id, n } of perPlatform.values()) out.set(id, Math.max(out.get(id) || 0, n));
  return out;
}

function fillSelect(select, options, wanted) {
  select.replaceChildren(...options.map(([value, text]) => el("option", { value }, text)));
  if (options.some(([value]) => value === wanted)) select.value = wanted;
}

/** Platform names from the default campaign ("X (Twitter)"); ids where it does not say. */
let names = null;
async function platformNames() {
  if (names) return names;
  try {
    const campaign = (await api("/v1/campaigns/default", {})).body;
    names = new Map((campaign.platforms || []).map((p) => [p.id, p.name]));
  } catch {
    names = new Map();
  }
  return names;
}

function platformName(id) {
  return (names && names.get(id)) || id;
}

/** "Facebook and X (Twitter) blocked", or "Internet outage": what an event did. */
function what(e) {
  if (networkWide(e)) return t(NETWORK_EVENT[e.verdict]);
  return t("dash.event_what", {
    platforms: i18n.list(e.platforms.map(platformName)),
    verdict: t(EVENT_VERDICT[e.verdict] || "dash.event_blocked"),
  });
}

/** "X (Twitter) blocked and YouTube slowed down on network AS17557 in Pakistan": what a group
 *  of events of one place and time did, and where, in the visitor's words. */
function headline(group) {
  const e = group[0];
  const places = networkWide(e) ? NETWORK_PLACE : EVENT_PLACE;
  return t(places[e.scope] || "dash.event_network", {
    what: i18n.list(group.map(what)),
    country: e.cc ? i18n.country(e.cc) : "",
    network: e.asn === null ? "" : `AS${e.asn}`,
  });
}

/** A moment of an event: weekday, day, month and hour in the visitor's locale and time zone. */
function moment(ms) {
  return i18n.dateTime(ms, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
}

function hours(n) {
  return i18n.number(n, { style: "unit", unit: "hour", unitDisplay: "long" });
}

/** How sure, in plain words, with the evidence behind it. */
function evidence(e) {
  const sure = e.confidence >= 0.999 ? "dash.sure_certain" : e.confidence >= 0.99 ? "dash.sure_very" : "dash.sure_likely";
  return t(networkWide(e) ? NETWORK_EVIDENCE[e.verdict] : "dash.event_evidence", {
    sure: t(sure),
    share: i18n.number(e.share, { style: "percent", maximumFractionDigits: 0 }),
    n: e.senders,
    confidence: i18n.number(e.confidence, { minimumFractionDigits: 3, maximumFractionDigits: 3 }),
  });
}

/** "Tests: 4× the usual number": beside an event, never as its proof. */
function volume(e) {
  if (e.volume === null || e.volume === undefined) return null;
  return t("dash.event_volume", { ratio: i18n.number(e.volume, { maximumFractionDigits: 1 }) });
}

/** One card for the events of one place, start and end (a country's blocked platforms and its
 *  throttled one), naming the networks whose own events it covers. */
function eventCard({ events: group, networks }) {
  const e = group[0];
  const start = Date.parse(e.start);
  const end = e.end === null ? null : Date.parse(e.end);
  const wide = networkWide(e);
  const card = el("li", {
    class: `event ${e.verdict} ${end === null ? "ongoing" : "ended"}`, "data-scope": e.scope,
    "data-verdict": e.verdict, "data-kind": wide ? "network" : "platforms",
  });
  const state = el("span", { class: "state" }, t(end === null ? "dash.event_ongoing" : "dash.event_ended"));
  if (wide) card.append(el("span", { class: "tag" }, t("dash.tag_network")), " ");
  const when = end === null
    ? t("dash.event_since", { start: moment(start), duration: hours(Math.max(1, Math.round((Date.now() - start) / HOUR))) })
    : t("dash.event_span", { start: moment(start), end: moment(end), duration: hours(Math.round((end - start) / HOUR)) });
  card.append(state, el("h3", { class: `scope-${e.scope}` }, headline(group)), el("p", { class: "when" }, when));
  for (const one of group) {
    const text = group.length > 1 ? t("dash.event_part", { what: what(one), evidence: evidence(one) }) : evidence(one);
    card.append(el("p", { class: "sure" }, text));
    const more = volume(one);
    if (more) card.append(el("p", { class: "volume" }, more));
  }
  if (networks.length) {
    card.append(el("p", { class: "networks" }, t("dash.event_networks", { networks: i18n.list(networks.map((asn) => `AS${asn}`)) })));
  }
  return card;
}

/** The events the filters choose: a country's and the global ones; with a network, that
 *  network's and its country's country-wide ones. Ongoing first, then outages and slowdowns
 *  of the network itself (they explain the platforms' failures), then the newest. */
function chosenEvents(events, asn) {
  return events
    .filter((e) => !asn || e.asn === null || String(e.asn) === asn)
    .sort((a, b) => (a.end === null) !== (b.end === null) ? (a.end === null ? -1 : 1)
      : networkWide(b) - networkWide(a) || Date.parse(b.start) - Date.parse(a.start));
}

/** Cards: events of one place with the same start and end together; a network's events that a
 *  country-wide event of the same hours and verdict covers are named on its card instead. */
function cards(events) {
  const span = (e) => `${e.start}\u0000${e.end}`;
  // The network's own outages and slowdowns get cards of their own, apart from platforms.
  const place = (e) => `${networkWide(e)}\u0000${e.scope}\u0000${e.cc}\u0000${e.asn}\u0000${span(e)}`;
  const covers = (c, n) => c.scope === "country" && n.scope === "network" && n.cc === c.cc && span(n) === span(c)
    && n.verdict === c.verdict && n.platforms.every((p) => c.platforms.includes(p));
  const groups = new Map();
  const coveredBy = new Map();
  for (const e of events) {
    const country = events.find((c) => covers(c, e));
    if (country) coveredBy.set(e, place(country));
    else if (!groups.has(place(e))) groups.set(place(e), { events: [], networks: [] });
  }
  for (const e of events) {
    const group = groups.get(coveredBy.get(e) ?? place(e));
    if (!coveredBy.has(e)) group.events.push(e);
    else if (!group.networks.includes(e.asn)) group.networks.push(e.asn);
  }
  for (const group of groups.values()) group.networks.sort((a, b) => a - b);
  return [...groups.values()];
}

/** Shaded bands over the hours of the events that include `platform` (with `wide`, hatched
 *  bands over the network's own outages and slowdowns, which cover every platform), merged
 *  where they overlap, each with the events' headlines as its tooltip. */
function bands(platform, events, win, width, height, wide = false) {
  const spans = events
    .filter((e) => (wide ? networkWide(e) : !networkWide(e) && e.platforms.includes(platform)))
    .map((e) => ({ from: Math.max(Date.parse(e.start), win.from), to: Math.min(e.end === null ? win.to : Date.parse(e.end), win.to), text: headline([e]) }))
    .filter((s) => s.from < s.to)
    .sort((a, b) => a.from - b.from);
  const merged = [];
  for (const s of spans) {
    const prev = merged[merged.length - 1];
    if (prev && s.from <= prev.to) {
      prev.to = Math.max(prev.to, s.to);
      if (!prev.texts.includes(s.text)) prev.texts.push(s.text);
    } else merged.push({ from: s.from, to: s.to, texts: [s.text] });
  }
  const x = (ms) => ((ms - win.from) / (win.to - win.from)) * width;
  return merged.map((s) => {
    const group = svg("g");
    const title = svg("title");
    title.textContent = s.texts.join("\n");
    const w = Math.max(x(s.to) - x(s.from), 1.5).toFixed(2);
    // A network's outage or slowdown is hatched and marked at the foot, a platform's block
    // shaded and marked at the top: told apart without colour.
    group.setAttribute("class", wide ? "network" : "platforms");
    group.append(title,
      svg("rect", { class: wide ? "band-network" : "band", x: x(s.from).toFixed(2), y: 0, width: w, height }),
      svg("rect", { class: "band-edge", x: x(s.from).toFixed(2), y: wide ? height - 6 : 0, width: w, height: 6 }));
    return group;
  });
}

function timeline(platform, rows, win, bucket, events) {
  const figure = el("article", { class: "platform", "data-platform": platform });
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  const slots = Math.round((win.to - win.from) / win.step);
  const width = 600;
  const height = 90;
  const bar = width / slots;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  const total = rows.reduce((sum, r) => sum + r.reports, 0);
  chart.setAttribute("aria-label", t("dash.chart_label", { platform, n: total }));
  for (let i = 0; i < slots; i++) {
    const time = win.from + i * win.step;
    const row = byBucket.get(time);
    if (!row) continue;
    let y = height;
    const group = svg("g");
    const title = svg("title");
    title.textContent = t("dash.bucket_tip", { time: label(time, bucket), n: row.reports, shares: shares(row) });
    group.append(title);
    for (const v of VERDICTS) {
      if (!row[v]) continue;
      const h = (height * row[v]) / row.reports;
      y -= h;
      group.append(svg("rect", {
        x: (i * bar).toFixed(2), y: y.toFixed(2), width: Math.max(bar - 0.5, 0.5).toFixed(2),
        height: h.toFixed(2), fill: `var(--${v})`,
      }));
    }
    chart.append(group);
  }
  chart.append(...bands(platform, events, win, width, height), ...bands(platform, events, win, width, height, true));
  const latest = rows.reduce((a, b) => (!a || b.bucket > a.bucket ? b : a), null);
  const summary = latest
    ? t("dash.summary", { n: total, time: label(latest.bucket, bucket), shares: shares(latest) })
    : t("dash.empty_period");
  const axis = el("div", { class: "axis" });
  axis.append(el("span", {}, label(win.from, bucket)), el("span", {}, label(win.to - win.step, bucket)));
  figure.append(el("h2", { translate: "no" }, platformName(platform)), chart, axis, el("p", { class: "summary" }, summary));
  return figure;
}

const CONDITIONS = ["normal", "degraded", "offline"];

/** The connection itself per network over the period (the aggregates' `connections`, issue
 *  #13): how many published reports found it normal, far slower than usual or offline, the
 *  busiest network first. Hidden where the collector publishes none. */
function connectionTable(cells) {
  const byNetwork = new Map();
  for (const c of cells || []) {
    const row = byNetwork.get(c.asn) || { asn: c.asn, reports: 0, normal: 0, degraded: 0, offline: 0 };
    row.reports += c.reports;
    for (const k of CONDITIONS) row[k] += c[k] || 0;
    byNetwork.set(c.asn, row);
  }
  const rows = [...byNetwork.values()].sort((a, b) => b.reports - a.reports || a.asn - b.asn);
  $("connections-section").hidden = rows.length === 0;
  $("connections").tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = el("tr", { "data-asn": String(r.asn) });
    tr.append(el("td", { translate: "no" }, r.asn === 0 ? t("dash.unknown_network") : `AS${r.asn}`),
      el("td", {}, i18n.number(r.reports)));
    for (const k of CONDITIONS) {
      const text = r[k] ? t("dash.count_share", { count: r[k], share: i18n.percent(r[k], r.reports) }) : i18n.number(0);
      tr.append(el("td", { class: r[k] && k !== "normal" ? k : "" }, text));
    }
    return tr;
  }));
}

function table(rows, bucket) {
  const column = $("time-column");
  if (bucket === "day") say(column, "dash.col_day");
  else say(column, "dash.col_time", { zone: timeZone() });
  const body = $("table").tBodies[0];
  const sorted = [...rows].sort((a, b) => b.bucket - a.bucket || a.platform.localeCompare(b.platform));
  body.replaceChildren(...sorted.map((r) => {
    const tr = el("tr");
    tr.append(el("td", {}, label(r.bucket, bucket)), el("td", { translate: "no" }, r.platform),
      el("td", {}, i18n.number(r.reports)));
    for (const v of VERDICTS) {
      const text = r[v] ? t("dash.count_share", { count: r[v], share: i18n.percent(r[v], r.reports) }) : i18n.number(0);
      tr.append(el("td", { class: r[v] && v === "blocked" ? "blocked" : "" }, text));
    }
    return tr;
  }));
  if (!sorted.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: "8" }, t("dash.empty_table")));
    body.append(tr);
  }
}

/** The active campaigns (GET /v1/campaigns), fetched once; none when the list fails. */
let campaigns = null;
async function activeCampaigns() {
  if (!campaigns) campaigns = api("/v1/campaigns", {}).then(({ body }) => body.campaigns || [], () => []);
  return campaigns;
}

/** The campaign filter: every active campaign by its name in the visitor's language, and the
 * one the address asks for even when it has ended (its reports stay counted). */
function fillCampaigns(list) {
  const wanted = controls.campaign.value || new URLSearchParams(location.search).get("campaign") || "";
  const lang = i18n.currentLanguage();
  const options = list.map((c) => [c.id, (c.name_intl && c.name_intl[lang]) || c.name || c.id]);
  if (wanted && !options.some(([id]) => id === wanted)) options.push([wanted, wanted]);
  fillSelect(controls.campaign, [["", t("dash.all_campaigns")], ...options], wanted);
}

/** Fills the filters and draws the fetched view in the current language. */
function draw() {
  const { all, view, range, bucket, win, disruptions, campaign } = last;
  fillCampaigns(last.campaigns);
  const wantedCc = controls.cc.value || new URLSearchParams(location.search).get("cc");
  const countries = [...reportsBy(all.cells, (c) => c.cc)].sort((a, b) => b[1] - a[1]);
  fillSelect(controls.cc, countries.map(([cc, n]) => [cc, t("dash.country_option", {
    country: cc === "ZZ" ? `${t("dash.unknown_country")} (ZZ)` : `${i18n.country(cc)} (${cc})`, n,
  })]), wantedCc || (countries[0] || [""])[0]);
  const cc = controls.cc.value;
  const wantedAsn = controls.asn.dataset.touched ? controls.asn.value : new URLSearchParams(location.search).get("asn") || "";
  const networks = reportsBy(all.cells.filter((c) => c.cc === cc), (c) => c.asn);
  const asnOptions = [["", t("dash.all_networks")], ...[...networks].sort((a, b) => b[1] - a[1])
    .map(([asn, n]) => [String(asn), t("dash.network_option", {
      network: asn === 0 ? t("dash.unknown_network") : `AS${asn}`, n,
    })])];
  fillSelect(controls.asn, asnOptions, wantedAsn);
  const asn = controls.asn.value;

  const events = disruptions.events ? chosenEvents(disruptions.events, asn) : [];
  $("events").replaceChildren(...cards(events).map(eventCard));
  $("events-none").hidden = !disruptions.events || events.length > 0;
  $("events-error").hidden = !disruptions.error;
  if (disruptions.error) say($("events-error"), "dash.events_error", { detail: disruptions.error });
  const feed = new URL("/v1/disruptions.atom", location.href);
  if (campaign) feed.searchParams.set("campaign", campaign);
  if (cc) feed.searchParams.set("cc", cc);
  if (asn) feed.searchParams.set("asn", asn);
  $("feed").href = feed.pathname + feed.search;
  $("synthetic").hidden = !(all.synthetic || view.body.synthetic || disruptions.synthetic);

  const rows = combine(view.body.cells);
  // Platforms with a disruption in view first, so the shaded ones are seen at once.
  const hit = (p) => events.some((e) => !networkWide(e) && e.platforms.includes(p));
  const platforms = [...new Set(rows.map((r) => r.platform))].sort((a, b) => hit(b) - hit(a) || a.localeCompare(b));
  $("timelines").replaceChildren(...platforms.map((p) => timeline(p, rows.filter((r) => r.platform === p), win, bucket, events)));
  table(rows, bucket);
  connectionTable(view.body.connections);

  const k = view.body.k ?? all.k;
  const where = cc ? (asn ? `${cc}, AS${asn}` : `${cc}, ${t("dash.all_networks")}`) : t("dash.any_country");
  const note = [t("dash.note", { n: k })];
  if (!asn) note.push(t("dash.note_all", { where }));
  note.push(t("dash.note_end"));
  $("note").textContent = note.join(" ");
  const csv = new URL(view.url || new URL("/v1/aggregates", location.href));
  csv.searchParams.set("format", "csv");
  $("csv").href = csv.pathname + csv.search;
  $("csv").download = $("synthetic").hidden ? "netreach-aggregates.csv" : "netreach-aggregates-synthetic-demo.csv";

  const state = new URLSearchParams(location.search);
  for (const [name, value] of Object.entries({ campaign, cc, asn, range: String(range), bucket })) state.set(name, value);
  history.replaceState(null, "", `${location.pathname}?${state}`);
}

async function render() {
  const range = Number(controls.range.value);
  const bucket = controls.bucket.value;
  const win = window_(range, bucket);
  const from = new Date(win.from).toISOString();
  const to = new Date(win.to).toISOString();

  const list = await activeCampaigns();
  fillCampaigns(list);
  const campaign = controls.campaign.value;
  // Everything published in the period, to offer the countries and networks that have data.
  const [all] = await Promise.all([aggregates({ bucket, from, to, campaign }).then((a) => a.body), platformNames()]);
  last = { all, view: { body: { cells: [], k: all.k }, url: null }, range, bucket, win, disruptions: {}, campaign, campaigns: list };
  draw();
  const cc = controls.cc.value;
  const asn = controls.asn.value;

  // The chosen view, and the disruptions of its country (its network's are chosen in draw).
  const [view, disruptions] = await Promise.all([
    cc ? aggregates({ bucket, from, to, campaign, cc, asn }) : last.view,
    api("/v1/disruptions", { from, to, cc, campaign }).then(
      ({ body }) => ({ events: body.disruptions || [], synthetic: body.synthetic }),
      (e) => ({ error: e.message })),
  ]);
  Object.assign(last, { view, disruptions });
  draw();
  document.body.dataset.state = "ready";
}

async function update() {
  try {
    $("error").hidden = true;
    await render();
  } catch (e) {
    $("error").hidden = false;
    say($("error"), "dash.error", { detail: e.message });
    document.body.dataset.state = "error";
  }
}

const initial = new URLSearchParams(location.search);
for (const name of ["range", "bucket"]) {
  const wanted = initial.get(name);
  if ([...controls[name].options].some((o) => o.value === wanted)) controls[name].value = wanted;
}
controls.cc.addEventListener("change", () => { controls.asn.dataset.touched = "1"; controls.asn.value = ""; update(); });
controls.asn.addEventListener("change", () => { controls.asn.dataset.touched = "1"; update(); });
controls.campaign.addEventListener("change", update);
controls.range.addEventListener("change", update);
controls.bucket.addEventListener("change", update);
i18n.onChange(() => {
  if (last) draw();
});
i18n.start().then(update);
