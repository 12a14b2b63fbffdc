// The netreach page: loads the campaign, waits for the visitor's click, runs the engine,
// explains each verdict and lets the visitor decide whether the report is sent.
// Used by index.html and embed.html (same DOM ids).

const $ = (id) => document.getElementById(id);
const body = document.body;

// Verdict words (shown with the colour, never instead of it) and a short mark for the badge.
const VERDICTS = {
  reachable: ["Reachable", "✓"],
  throttled: ["Slowed down", "↓"],
  partial: ["Partly blocked", "◐"],
  blocked: ["Blocked", "✕"],
  inconclusive: ["Inconclusive", "?"],
};

// One plain-language explanation per Reason of src/vocabulary.rs (tests/page_explanations.rs
// fails when one is missing or unknown).
const REASONS = {
  endpoints_loaded: "Its servers answered normally, at a speed similar to the reference sites.",
  low_throughput:
    "It loads, but a larger file downloaded far more slowly than from the reference sites (under a fifth of their speed). This is what deliberate slowing looks like.",
  high_latency:
    "It loads, but it took more than ten times longer to answer than the reference sites (over two seconds more). This is what deliberate slowing looks like.",
  some_endpoints_failed:
    "Some of its servers failed every time while others loaded, so part of the service (for example its images or videos) may be blocked.",
  intermittent_failures:
    "Its servers failed more often than they loaded, while the reference sites were fine. The connection to it is unreliable: interference or heavy congestion.",
  endpoints_timeout:
    "Every one of its servers failed repeatedly, with no answer at all, while the reference sites loaded normally. Silently dropping connections is a common way of blocking.",
  endpoints_error:
    "Every one of its servers failed repeatedly with a connection error (refused, reset, name not found or a wrong certificate), while the reference sites loaded normally. This is how blocking by name usually looks.",
  endpoints_failed:
    "Every one of its servers failed repeatedly, with timeouts and connection errors, while the reference sites loaded normally.",
  controls_failed:
    "The reference sites did not load either: your connection may be offline, or everything is disrupted. No verdict is possible.",
  controls_unstable:
    "Some reference sites failed too, so failures here may come from your connection rather than a block.",
  cancelled: "The test was stopped before it finished.",
  page_hidden:
    "The page was in the background while this was tested. Browsers slow down background pages, so the timings cannot be trusted.",
  cross_origin_isolated:
    "This page's security settings (cross-origin isolation) stop the browser from loading other sites' files, so failures here say nothing about blocking.",
  csp_violation:
    "This page's security policy (Content-Security-Policy) stopped some checks, so failures here say nothing about blocking.",
  too_few_attempts: "Too few checks finished to say anything.",
  refused_by_browser:
    "Every check of it failed within a few milliseconds, faster than any network answers, while the reference sites took longer: something in this browser refused it (an ad or content blocker, tracking protection or a security extension). Allow this page in your blocker, or run the test in a private window without extensions.",
};

const LOCAL_CAUSES = " A VPN, an ad or privacy blocker, or a work or school firewall can cause this too.";

const query = new URLSearchParams(location.search);
let campaign = null;
let collector = null;
let report = null;
let controller = null;

function setState(state) {
  body.dataset.state = state;
}

function showError(message) {
  $("error").textContent = message;
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
      throw new Error("The campaign must come from this site (" + location.origin + ").");
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
      if (!response.ok) throw new Error("HTTP " + response.status + " for " + url.pathname);
      const loaded = await response.json();
      const fromCollector = url.pathname.startsWith("/v1/campaigns/");
      collector = loaded.collector || (fromCollector ? new URL("/v1/reports", location.href).href : null);
      return loaded;
    } catch (error) {
      last = error;
    }
  }
  throw new Error("Could not load the list of platforms to test: " + (last && last.message));
}

function describeCampaign() {
  const list = $("platforms");
  list.replaceChildren(
    ...(campaign.platforms || []).map((p) => {
      const li = document.createElement("li");
      li.className = "chip";
      li.textContent = p.name;
      return li;
    }),
  );
  const n = (campaign.controls || []).length;
  $("control-count").textContent = n === 1 ? "one" : String(n);
  $("collector-note").textContent = collector
    ? "If you submit, the report goes to " + new URL(collector).host + ". You will see it in full first."
    : "This page has no collection server configured: the report stays in your browser.";
}

// Everything needed before a run, started at load so the click answers at once. Loading
// the engine and the campaign contacts only this site.
const ready = (async () => {
  campaign = await loadCampaign();
  describeCampaign();
  try {
    const engine = await import("./pkg/netreach.js");
    await engine.default();
    return engine;
  } catch (error) {
    throw new Error("The test engine could not be loaded: " + error.message);
  }
})();
ready.catch((error) => {
  if (!campaign) $("platforms").replaceChildren();
  showError(error.message);
});

function formatSpeed(kbps) {
  return kbps >= 1000 ? (kbps / 1000).toFixed(1) + " Mbit/s" : kbps + " kbit/s";
}

function resultRow(result) {
  const platform = campaign.platforms.find((p) => p.id === result.id);
  const [word, mark] = VERDICTS[result.verdict] || [result.verdict, "?"];
  const li = document.createElement("li");
  li.className = "result";
  li.dataset.platform = result.id;
  li.dataset.verdict = result.verdict;
  li.dataset.reason = result.reason;

  const head = document.createElement("div");
  head.className = "result-head";
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = platform ? platform.name : result.id;
  const badge = document.createElement("span");
  badge.className = "badge";
  const icon = document.createElement("span");
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = mark;
  badge.append(icon, " " + word);
  head.append(name, badge);

  const figures = document.createElement("p");
  figures.className = "figures";
  const parts = [];
  if (result.median_ms != null) parts.push("median time " + result.median_ms + " ms");
  if (result.kbps != null) parts.push("download " + formatSpeed(result.kbps));
  figures.textContent = parts.join(" · ");

  const why = document.createElement("p");
  why.className = "why";
  const local = result.verdict === "blocked" || result.verdict === "partial" ? LOCAL_CAUSES : "";
  why.textContent = (REASONS[result.reason] || "No explanation for “" + result.reason + "”.") + local;

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
    const shared = reasons.size === 1 && REASONS[platforms[0].reason];
    return shared || "No verdict was possible on this connection; see below for why.";
  }
  const parts = [];
  if (troubled === 0) parts.push("No sign of blocking or slowing on this connection.");
  else parts.push(troubled + " of " + platforms.length + " platforms show signs of blocking or slowing.");
  if (unsure) parts.push(unsure + " inconclusive.");
  return parts.join(" ");
}

function onProgress(event) {
  const bar = $("progress");
  bar.max = event.total;
  bar.value = event.done;
  const platform = event.platform && campaign.platforms.find((p) => p.id === event.platform);
  const what = platform ? platform.name : "reference sites";
  $("status").textContent = "Checked " + event.done + " of " + event.total + " (" + what + ")";
}

function showReport(result) {
  report = result;
  $("results").replaceChildren(...report.platforms.map(resultRow));
  $("summary").textContent = summarize(report.platforms);
  $("results-section").hidden = false;
  $("report").textContent = JSON.stringify(report, null, 2);
  $("report-section").hidden = false;
  $("submit").disabled = !collector;
  $("discard").disabled = false;
  $("submit-status").textContent = collector ? "" : "No collection server is configured, so nothing can be sent.";
  delete body.dataset.submitted;
}

async function start() {
  if (body.dataset.state === "running") return;
  $("error").hidden = true;
  $("results-section").hidden = true;
  $("report-section").hidden = true;
  $("progress-block").hidden = false;
  $("progress").value = 0;
  $("status").textContent = "Preparing…";
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
    showError(error && error.message ? error.message : String(error));
  } finally {
    $("progress-block").hidden = true;
    $("cancel").hidden = true;
    $("start").disabled = false;
    $("start").textContent = "Test again";
  }
}

async function send() {
  if (!report || !collector) return;
  $("submit").disabled = true;
  $("discard").disabled = true;
  $("submit-status").textContent = "Sending…";
  try {
    const engine = await ready;
    const answer = await engine.submit(report, collector);
    body.dataset.submitted = String(answer.id);
    $("submit-status").textContent = "Thank you. Your report was stored (its random id: " + answer.id + ").";
  } catch (error) {
    body.dataset.submitted = "failed";
    $("submit-status").textContent = "The report could not be sent: " + (error && error.message ? error.message : error);
    $("submit").disabled = false;
    $("discard").disabled = false;
  }
}

function discard() {
  report = null;
  $("report").textContent = "";
  $("submit").disabled = true;
  $("discard").disabled = true;
  $("submit-status").textContent = "Nothing was sent. Your result stays on this page until you leave it.";
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
