// The netreach page: loads the campaign, waits for the visitor's click, runs the engine,
// explains each verdict and lets the visitor decide whether the report is sent.
// Used by index.html and embed.html (same DOM ids). Every word the visitor reads comes from
// the catalogs through i18n.js.

import * as i18n from "./i18n.js";
import { t, say } from "./i18n.js";
import { MAX_AGE_MS, WaitingReports, mayRetry, sendWaiting } from "./waiting.js";
import { degraded, offline } from "./connection.js";

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
// What the collector said of the connection of the report on screen (connection.js).
let judged = null;
const waiting = new WaitingReports(() => window.localStorage);

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
// arbitrary hosts or a sender of reports to someone else's server. `?campaign=pk` names a
// campaign of this collector; a path of this site (`/v1/campaigns/pk`) is taken too.
function campaignSources() {
  const asked = query.get("campaign");
  if (asked && /^[A-Za-z0-9_-]{1,64}$/.test(asked)) return [new URL("/v1/campaigns/" + asked, location.href)];
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
      // An ended campaign (410) is final: no fallback to a file that would run it anyway.
      if (response.status === 410) return { ended: true };
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

// A descriptor text in the visitor's language: its `_intl` translation for the page's
// language when the campaign has one, else the text itself.
function localized(field) {
  const translations = campaign[field + "_intl"] || {};
  const language = i18n.currentLanguage();
  return translations[language] || translations[language.split("-")[0]] || campaign[field] || "";
}

function describeOrganisers() {
  const name = localized("name");
  const description = localized("short_description") || localized("description");
  $("campaign-name").textContent = name;
  $("campaign-description").textContent = description;
  $("campaign-description").hidden = !description;
  if (/^#[0-9A-Fa-f]{6}$/.test(campaign.color || "")) {
    $("campaign-about").style.setProperty("--campaign-color", campaign.color);
  }
  $("campaign-about").hidden = !name;
}

function describeCampaign() {
  describeOrganisers();
  i18n.onChange(describeOrganisers);
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

// The engine, loaded at once: it runs the test and sends reports, waiting ones included.
const engine = (async () => {
  try {
    const loaded = await import("./pkg/netreach.js");
    await loaded.default();
    return loaded;
  } catch (error) {
    throw new PageError("error.engine", { detail: error.message });
  }
})();
engine.catch(() => {});

// Everything needed before a run, started at load so the click answers at once. Loading
// the language, the engine and the campaign contacts only this site.
const ready = (async () => {
  const loading = loadCampaign();
  loading.catch(() => {});
  await language;
  campaign = await loading;
  if (campaign.ended) {
    campaign = null;
    throw new PageError("error.campaign_ended");
  }
  describeCampaign();
  return engine;
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

/** After Submit, when the collector found the connection itself far slower than usual for
 *  this network at this hour: says so, with the visitor's figures and the usual ones. */
function drawConnection() {
  const note = $("connection-note");
  note.hidden = !judged;
  if (!judged) return;
  const ms = (value) => i18n.number(value, { style: "unit", unit: "millisecond", maximumFractionDigits: 0 });
  const parts = [t("connection.degraded")];
  if (judged.ms !== null) {
    parts.push(judged.typicalMs === null
      ? t("connection.latency_own", { ms: ms(judged.ms) })
      : t("connection.latency", { ms: ms(judged.ms), typical: ms(judged.typicalMs) }));
  }
  if (judged.kbps !== null) {
    parts.push(judged.typicalKbps === null
      ? t("connection.speed_own", { speed: formatSpeed(judged.kbps) })
      : t("connection.speed", { speed: formatSpeed(judged.kbps), typical: formatSpeed(judged.typicalKbps) }));
  }
  note.textContent = parts.join(" ");
}

// Results, the connection note and waiting reports are computed text: draw them again in the
// new language.
i18n.onChange(() => {
  if (shown) drawResults();
  drawConnection();
  drawWaiting();
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
  // Not even the reference sites loaded: the network itself seems down, and Submit keeps the
  // report here until it is back (the words are the catalog's, marked in the page).
  $("offline-note").hidden = !(collector && offline(result));
  judged = null;
  drawConnection();
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
    const netreach = await ready;
    const result = await netreach.run(campaign, { onProgress, signal: controller.signal });
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
  // What becomes of the report is said below Submit from here on.
  $("offline-note").hidden = true;
  $("submit").disabled = true;
  $("discard").disabled = true;
  say($("submit-status"), "report.sending");
  try {
    const answer = await (await ready).submit(report, collector);
    body.dataset.submitted = String(answer.id);
    say($("submit-status"), "report.sent", { id: String(answer.id) });
    judged = degraded(answer, report);
    drawConnection();
  } catch (error) {
    const detail = error && error.message ? error.message : String(error);
    // The visitor asked for it to be sent: what the network keeps from the collector waits
    // here until it can go. Submit and Discard stay off; it is deleted from the waiting list.
    if (mayRetry(error) && waiting.keep(collector, report)) {
      body.dataset.submitted = "waiting";
      say($("submit-status"), "report.waiting", { detail });
      drawWaiting();
      return;
    }
    body.dataset.submitted = "failed";
    say($("submit-status"), mayRetry(error) ? "report.not_kept" : "report.failed", { detail });
    $("submit").disabled = false;
    $("discard").disabled = false;
  }
}

/** The hour a waiting report's test started, in the visitor's locale and time zone. */
function runTime(entry) {
  const started = new Date(entry.report.started_at);
  if (Number.isNaN(started.getTime())) return String(entry.report.started_at);
  return i18n.dateTime(started, { dateStyle: "medium", timeStyle: "short" });
}

function drawWaiting() {
  const entries = waiting.list();
  $("waiting").replaceChildren(
    ...entries.map((entry) => {
      const li = document.createElement("li");
      li.className = "waiting-report";
      const what = document.createElement("span");
      say(what, "waiting.item", { time: runTime(entry) });
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "delete";
      say(remove, "waiting.delete");
      remove.addEventListener("click", () => {
        waiting.remove(entry);
        tell("deleted", "waiting.deleted", { time: runTime(entry) });
        drawWaiting();
      });
      li.append(what, " ", remove);
      return li;
    }),
  );
  $("waiting-intro").hidden = entries.length === 0;
  $("waiting-retry").hidden = entries.length === 0;
  $("waiting-section").hidden = entries.length === 0 && !$("waiting-log").childElementCount;
}

/** Adds a line to what became of waiting reports (newest last); `data-outcome` and
 *  `data-id` say it to the lab as well. */
function tell(outcome, key, args, id) {
  const line = document.createElement("li");
  line.dataset.outcome = outcome;
  if (id) line.dataset.id = id;
  say(line, key, args);
  $("waiting-log").append(line);
}

const TOLD = {
  sent: "waiting.sent",
  refused: "waiting.refused",
  expired: "waiting.expired",
  waiting: "waiting.still",
};

let sending = null;

/** Sends the waiting reports (once at a time in this page) and says what became of them. */
function sendWaitingNow() {
  if (sending || waiting.list().length === 0) return sending;
  sending = (async () => {
    $("waiting-retry").disabled = true;
    try {
      const outcomes = await sendWaiting(waiting, (await engine).submit);
      for (const { entry, outcome, id, detail } of outcomes) {
        const days = MAX_AGE_MS / 86_400_000;
        tell(outcome, TOLD[outcome], { time: runTime(entry), id, detail, days }, id);
        // The report on screen went too: its Submit status says so.
        if (outcome === "sent" && report && JSON.stringify(entry.report) === JSON.stringify(report)) {
          body.dataset.submitted = id;
          say($("submit-status"), "report.sent", { id });
        }
      }
    } catch (error) {
      console.warn(error);
    } finally {
      sending = null;
      $("waiting-retry").disabled = false;
      drawWaiting();
    }
  })();
  return sending;
}

function discard() {
  report = null;
  $("offline-note").hidden = true;
  $("report").textContent = "";
  $("submit").disabled = true;
  $("discard").disabled = true;
  say($("submit-status"), "report.discarded");
}

$("start").addEventListener("click", start);
$("cancel").addEventListener("click", () => controller && controller.abort());
$("submit").addEventListener("click", send);
$("discard").addEventListener("click", discard);
$("waiting-retry").addEventListener("click", sendWaitingNow);

// Reports kept from an earlier Submit go when the page opens (in the visitor's language)
// and whenever the browser says it is back online.
language.then(() => {
  drawWaiting();
  sendWaitingNow();
});
window.addEventListener("online", sendWaitingNow);

// Inside an embed, tell the embedding page (embed.js) how tall the content is, in coarse steps
// and to its origin only (see embed-height.js), so that its iframe fits it.
if (window.parent !== window) {
  import("./embed-height.js").then(({ reportHeight }) => {
    const post = reportHeight(window, () => body.getBoundingClientRect().height);
    new ResizeObserver(post).observe(body);
  });
}
