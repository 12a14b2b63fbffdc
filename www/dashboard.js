// The netreach dashboard: verdict shares over time per platform, for one country and network,
// from the collector's k-anonymous aggregates (GET /v1/aggregates). No external resources.

const VERDICTS = ["reachable", "throttled", "partial", "blocked", "inconclusive"];
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const controls = { cc: $("cc"), asn: $("asn"), range: $("range"), bucket: $("bucket") };

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

function label(ms, bucket) {
  const iso = new Date(ms).toISOString();
  return bucket === "day" ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function percent(n, total) {
  return total ? `${Math.round((100 * n) / total)}%` : "";
}

/** The time window: whole buckets, ending with the current one. */
function window_(rangeDays, bucket) {
  const step = bucket === "day" ? DAY : HOUR;
  const to = Math.floor(Date.now() / step) * step + step;
  const from = to - Math.max(rangeDays * DAY, step);
  return { from, to, step };
}

async function aggregates(params) {
  const url = new URL("/v1/aggregates", location.href);
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== undefined) url.searchParams.set(k, v);
  const response = await fetch(url, { credentials: "omit", cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `aggregates: HTTP ${response.status}`);
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

function timeline(platform, rows, win, bucket) {
  const figure = el("article", { class: "platform", "data-platform": platform });
  const byBucket = new Map(rows.map((r) => [r.bucket, r]));
  const slots = Math.round((win.to - win.from) / win.step);
  const width = 600;
  const height = 90;
  const bar = width / slots;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  const total = rows.reduce((sum, r) => sum + r.reports, 0);
  chart.setAttribute("aria-label", `${platform}: ${total} reports in this period`);
  for (let i = 0; i < slots; i++) {
    const t = win.from + i * win.step;
    const row = byBucket.get(t);
    if (!row) continue;
    let y = height;
    const group = svg("g");
    const title = svg("title");
    title.textContent = `${label(t, bucket)} UTC, ${row.reports} reports: ` +
      VERDICTS.filter((v) => row[v]).map((v) => `${row[v]} ${v} (${percent(row[v], row.reports)})`).join(", ");
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
  const latest = rows.reduce((a, b) => (!a || b.bucket > a.bucket ? b : a), null);
  const summary = latest
    ? `${total} reports. Latest ${label(latest.bucket, bucket)} UTC: ` +
      VERDICTS.filter((v) => latest[v]).map((v) => `${v} ${percent(latest[v], latest.reports)}`).join(", ")
    : "no published cells in this period";
  figure.append(
    el("h2", {}, platform),
    chart,
    el("div", { class: "axis" }),
    el("p", { class: "summary" }, summary),
  );
  figure.querySelector(".axis").append(el("span", {}, label(win.from, bucket)), el("span", {}, `${label(win.to - win.step, bucket)} UTC`));
  return figure;
}

function table(rows, bucket) {
  const body = $("table").tBodies[0];
  const sorted = [...rows].sort((a, b) => b.bucket - a.bucket || a.platform.localeCompare(b.platform));
  body.replaceChildren(...sorted.map((r) => {
    const tr = el("tr");
    tr.append(el("td", {}, label(r.bucket, bucket)), el("td", {}, r.platform), el("td", {}, String(r.reports)));
    for (const v of VERDICTS) {
      const td = el("td", { class: r[v] && v === "blocked" ? "blocked" : "" }, r[v] ? `${r[v]} (${percent(r[v], r.reports)})` : "0");
      tr.append(td);
    }
    return tr;
  }));
  if (!sorted.length) {
    const tr = el("tr");
    tr.append(el("td", { colspan: "8" }, "No published cells for this choice."));
    body.append(tr);
  }
}

async function render() {
  const range = Number(controls.range.value);
  const bucket = controls.bucket.value;
  const win = window_(range, bucket);
  const from = new Date(win.from).toISOString();
  const to = new Date(win.to).toISOString();

  // Everything published in the period, to offer the countries and networks that have data.
  const all = (await aggregates({ bucket, from, to })).body;
  const countries = [...reportsBy(all.cells, (c) => c.cc)].sort((a, b) => b[1] - a[1]);
  fillSelect(controls.cc, countries.map(([cc, n]) => [cc, `${cc === "ZZ" ? "unknown (ZZ)" : cc} · ${n} reports`]),
    controls.cc.value || new URLSearchParams(location.search).get("cc") || (countries[0] || [""])[0]);
  const cc = controls.cc.value;
  const networks = reportsBy(all.cells.filter((c) => c.cc === cc), (c) => c.asn);
  const asnOptions = [["", "all networks"], ...[...networks].sort((a, b) => b[1] - a[1])
    .map(([asn, n]) => [String(asn), `${asn === 0 ? "unknown network" : `AS${asn}`} · ${n} reports`])];
  fillSelect(controls.asn, asnOptions,
    controls.asn.dataset.touched ? controls.asn.value : new URLSearchParams(location.search).get("asn") || "");
  const asn = controls.asn.value;

  // The chosen view.
  const view = cc ? await aggregates({ bucket, from, to, cc, asn }) : { body: { cells: [], k: all.k }, url: null };
  const rows = combine(view.body.cells);
  const platforms = [...new Set(rows.map((r) => r.platform))].sort();
  $("timelines").replaceChildren(...platforms.map((p) => timeline(p, rows.filter((r) => r.platform === p), win, bucket)));
  table(rows, bucket);

  const k = view.body.k ?? all.k;
  const where = cc ? `${cc}${asn ? `, AS${asn}` : ", all networks"}` : "any country";
  $("note").textContent =
    `Privacy: k = ${k} means an hour of one network and platform is shown only once at least ${k} ` +
    `different senders (distinct internet addresses) reported in it, however many times each did, so ` +
    `that no single visitor's result can be picked out; a day adds up only its shown hours. ` +
    `How many cells were left out is not published either: even that would tell whether someone in a ` +
    `network reported in a given hour. ` +
    (asn ? "" : `In this view (${where}), "all networks" adds up only the networks' published cells. `) +
    `A gap in a timeline means no reports or too few to publish. Verdicts: "inconclusive" means the ` +
    `visitor's own connection or browser could explain a failure, and is never counted as a block.`;
  const csv = new URL(view.url || new URL("/v1/aggregates", location.href));
  csv.searchParams.set("format", "csv");
  $("csv").href = csv.pathname + csv.search;

  const state = new URLSearchParams({ cc, asn, range: String(range), bucket });
  history.replaceState(null, "", `${location.pathname}?${state}`);
  document.body.dataset.state = "ready";
}

async function update() {
  try {
    $("error").hidden = true;
    await render();
  } catch (e) {
    $("error").hidden = false;
    $("error").textContent = `Could not load aggregates: ${e.message}`;
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
controls.range.addEventListener("change", update);
controls.bucket.addEventListener("change", update);
update();
