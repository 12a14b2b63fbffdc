// The netreach page: loads the campaign, waits for the visitor's click, runs the engine,
// explains each verdict and lets the visitor decide whether the report is sent.
// Used by index.html and embed.html (same DOM ids). Every word the visitor reads comes from
// the catalogs through i18n.js.

import * as i18n from "./i18n.js";
import { t, say } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const body = document.body;

// A short mark for each verdict's badge, shown beside its words (the catalogs' verdict.*),
// never instead of them. The words and one plain-language explanation per Reason of
// src/vocabulary.rs live in www/i18n/*.json (tests/page_explanations.rs checks every language).
const VERDICT_MARKS = {
  reachable: "✓",
  throttled: "↓",
  partial: "◐",
  blocked: "✕",
  inconclusive: "?",
};

const query = new URLSearchParams(location.search);
let campaign = null;
let collector = null;
let report = null;
let shown = null;
let controller = null;

function setState(state) {
  body.dataset.state = state;
}

/** An error the page explains in the visitor's language: a catalog key and its arguments. */
class PageError extends Error {
  constructor(key, args) {
    super(t(key, args));
    this.key = key;
    this.args = args;
  }
}

function showError(error) {
  const known = error instanceof PageError;
  const detail = error && error.message ? error.message : String(error);
  say($("error"), known ? error.key : "error.run", known ? error.args : { detail });
  $("error").hidden = false;
  setState("error");
}

// The campaign comes from this site only: a link must not turn the page into a probe of
// arbitrary hosts or a sender of reports to someone else's server.
function campaignSources() {
  const asked = query.get("campaign");
  if (asked) {
    const url = new URL(asked, location.href);
    if (url.origin !== location.origin) {
      throw new PageError("error.campaign_origin", { origin: location.origin });
    }
    return [url];
  }
  return [new URL("/v1/campaigns/default", location.href), new URL("campaigns/default.json", location.href)];
}

async function loadCampaign() {
  let last = null;
  for (const url of campaignSources()) {
    try {
      const response = await fetch(url, { cache: "no-store", credentials: "omit" });
      if (!response.ok) throw new Error(`HTTP ${response.status}: ${url.pathname}`);
      const loaded = await response.json();
      const fromCollector = url.pathname.startsWith("/v1/campaigns/");
      // A collector started with --demo labels every answer: say so before anything else.
      $("synthetic").hidden = response.headers.get("x-netreach-synthetic") !== "true";
      collector = loaded.collector || (fromCollector ? new URL("/v1/reports", location.href).href : null);
      return loaded;
    } catch (error) {
      last = error;
    }
  }
  throw new PageError("error.campaign", { detail: last && last.message });
}

function describeCampaign() {
  const list = $("platforms");
  list.replaceChildren(
    ...(campaign.platforms || []).map((p) => {
      const li = document.createElement("li");
      li.className = "chip";
      li.translate = false;
      li.textContent = p.name;
      return li;
    }),
  );
  say($("control-count"), "about.controls", { n: (campaign.controls || []).length });
  if (collector) say($("collector-note"), "privacy.collector", { host: new URL(collector).host });
  else say($("collector-note"), "privacy.no_collector");
}

// The visitor's language first: Start is usable once the consent above it is in their
// language (or in English, the page's own text, when the catalogs cannot be loaded).
const language = i18n.start().then(() => {
  $("start").disabled = false;
});

// Everything needed before a run, started at load so the click answers at once. Loading
// the language, the engine and the campaign contacts only this site.
const ready = (async () => {
  const loading = loadCampaign();
  loading.catch(() => {});
  await language;
  campaign = await loading;
  describeCampaign();
  try {
    const engine = await import("./pkg/netreach.js");
    await engine.default();
    return engine;
  } catch (error) {
    throw new PageError("error.engine", { detail: error.message });
  }
})();
ready.catch((error) => {
  if (!campaign) $("platforms").replaceChildren();
  showError(error);
});

function formatSpeed(kbps) {
  return kbps >= 1000
    ? i18n.number(kbps / 1000, { style: "unit", unit: "megabit-per-second", maximumFractionDigits: 1 })
    : i18n.number(kbps, { style: "unit", unit: "kilobit-per-second" });
}

function resultRow(result) {
  const platform = campaign.platforms.find((p) => p.id === result.id);
  const li = document.createElement("li");
  li.className = "result";
  li.dataset.platform = result.id;
  li.dataset.verdict = result.verdict;
  li.dataset.reason = result.reason;

  const head = document.createElement("div");
  head.className = "result-head";
  const name = document.createElement("span");
  name.className = "name";
  name.translate = false;
  name.textContent = platform ? platform.name : result.id;
  const badge = document.createElement("span");
  badge.className = "badge";
  const icon = document.createElement("span");
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = VERDICT_MARKS[result.verdict] || "?";
  badge.append(icon, " " + t("verdict." + result.verdict));
  head.append(name, badge);

  const figures = document.createElement("p");
  figures.className = "figures";
  const parts = [];
  if (result.median_ms != null) {
    const ms = i18n.number(result.median_ms, { style: "unit", unit: "millisecond" });
    parts.push(t("results.median", { ms }));
  }
  if (result.kbps != null) parts.push(t("results.download", { speed: formatSpeed(result.kbps) }));
  figures.textContent = parts.join(" · ");

  const why = document.createElement("p");
  why.className = "why";
  const key = "reason." + result.reason;
  const explained = t(key) !== key ? t(key) : t("results.unknown_reason", { reason: result.reason });
  const local = result.verdict === "blocked" || result.verdict === "partial";
  why.textContent = local ? explained + " " + t("results.local_causes") : explained;

  li.append(head);
  if (parts.length) li.append(figures);
  li.append(why);
  return li;
}

function summarize(platforms) {
  const count = (v) => platforms.filter((p) => p.verdict === v).length;
  const troubled = count("blocked") + count("partial") + count("throttled");
  const unsure = count("inconclusive");
  if (unsure === platforms.length) {
    const reasons = new Set(platforms.map((p) => p.reason));
    const key = "reason." + platforms[0].reason;
    return reasons.size === 1 && t(key) !== key ? t(key) : t("summary.no_verdict");
  }
  const parts = [];
  if (troubled === 0) parts.push(t("summary.none"));
  else parts.push(t("summary.troubled", { troubled, total: platforms.length }));
  if (unsure) parts.push(t("summary.unsure", { n: unsure }));
  return parts.join(" ");
}

function drawResults() {
  $("results").replaceChildren(...shown.platforms.map(resultRow));
  $("summary").textContent = summarize(shown.platforms);
}

// Results are computed text: draw them again in the new language.
i18n.onChange(() => {
  if (shown) drawResults();
});

function onProgress(event) {
  const bar = $("progress");
  bar.max = event.total;
  bar.value = event.done;
  const platform = event.platform && campaign.platforms.find((p) => p.id === event.platform);
  const what = platform ? platform.name : t("run.controls");
  say($("status"), "run.progress", { done: event.done, total: event.total, what });
}

function showReport(result) {
  report = result;
  shown = result;
  drawResults();
  $("results-section").hidden = false;
  $("report").textContent = JSON.stringify(report, null, 2);
  $("report-section").hidden = false;
  $("submit").disabled = !collector;
  $("discard").disabled = false;
  if (collector) $("submit-status").textContent = "";
  else say($("submit-status"), "report.no_collector");
  delete body.dataset.submitted;
}

async function start() {
  if (body.dataset.state === "running") return;
  $("error").hidden = true;
  $("results-section").hidden = true;
  $("report-section").hidden = true;
  $("progress-block").hidden = false;
  $("progress").value = 0;
  say($("status"), "run.preparing");
  $("start").disabled = true;
  $("cancel").hidden = false;
  setState("running");
  controller = new AbortController();
  try {
    const engine = await ready;
    const result = await engine.run(campaign, { onProgress, signal: controller.signal });
    showReport(result);
    setState("done");
    // Inside an embed, scrolling would move the reader's article too.
    if (window.parent === window) $("results-section").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (error) {
    showError(error);
  } finally {
    $("progress-block").hidden = true;
    $("cancel").hidden = true;
    $("start").disabled = false;
    say($("start"), "run.again");
  }
}

async function send() {
  if (!report || !collector) return;
  $("submit").disabled = true;
  $("discard").disabled = true;
  say($("submit-status"), "report.sending");
  try {
    const engine = await ready;
    const answer = await engine.submit(report, collector);
    body.dataset.submitted = String(answer.id);
    say($("submit-status"), "report.sent", { id: String(answer.id) });
  } catch (error) {
    body.dataset.submitted = "failed";
    say($("submit-status"), "report.failed", { detail: error && error.message ? error.message : String(error) });
    $("submit").disabled = false;
    $("discard").disabled = false;
  }
}

function discard() {
  report = null;
  $("report").textContent = "";
  $("submit").disabled = true;
  $("discard").disabled = true;
  say($("submit-status"), "report.discarded");
}

$("start").addEventListener("click", start);
$("cancel").addEventListener("click", () => controller && controller.abort());
$("submit").addEventListener("click", send);
$("discard").addEventListener("click", discard);

// Inside an embed, tell the embedding page (embed.js) how tall the content is, in coarse steps
// and to its origin only (see embed-height.js), so that its iframe fits it.
if (window.parent !== window) {
  import("./embed-height.js").then(({ reportHeight }) => {
    const post = reportHeight(window, () => body.getBoundingClientRect().height);
    new ResizeObserver(post).observe(body);
  });
}
