// netreach embed for news sites. Put this where the test should appear in an article:
//
//   <script src="https://NETREACH-HOST/embed.js" data-campaign="default" async></script>
//
// or pinned with Subresource Integrity (name and hash from https://NETREACH-HOST/pkg/integrity.json):
//
//   <script src="https://NETREACH-HOST/pkg/embed.<hash>.js" integrity="sha384-…"
//     crossorigin="anonymous" data-campaign="default" async></script>
//
// With data-card="PK" it inserts the live status card of that country instead (card.html:
// what visitors' published reports say about it over the last 24 hours; no test, no probe),
// data-platform="x" narrowing it to one platform:
//
//   <script src="https://NETREACH-HOST/embed.js" data-card="PK" async></script>
//
// The frame speaks the reader's language (their browser's preferences); data-lang="ur" picks
// one for an article in that language. data-title names the frame for screen readers in the
// article's language (the frame's own words come from its catalogs, not from this script).
//
// It inserts an iframe of embed.html from the netreach host, sized to its content in steps of
// 200 px (the exact height would follow the reader's verdicts). Nothing is
// measured before the reader clicks Start in the frame and nothing is sent unless they click
// Submit; the frame is loaded without a referrer, so the article's address is not passed on.
// Without scripts, use the frame directly:
//
//   <iframe src="https://NETREACH-HOST/embed.html" title="Is it blocked for me, right now?"
//     style="width:100%;height:560px;border:0" loading="lazy" referrerpolicy="no-referrer"></iframe>
//   <iframe src="https://NETREACH-HOST/card.html?cc=PK" title="Live status"
//     style="width:100%;height:400px;border:0" loading="lazy" referrerpolicy="no-referrer"></iframe>
(() => {
  const script = document.currentScript;
  if (!script) return;
  const card = script.dataset.card;
  // From the host's root: this same file is also served as /pkg/embed.<hash>.js.
  const base = new URL(card === undefined ? "/embed.html" : "/card.html", script.src);
  if (card !== undefined) {
    // The card checks its country and platform itself, and says in the frame what is wrong.
    base.searchParams.set("cc", card);
    if (script.dataset.platform) base.searchParams.set("platform", script.dataset.platform);
  }
  const id = script.dataset.campaign;
  // Only a plain campaign id: the frame loads campaigns from its own host, never from a URL.
  if (card === undefined && id && /^[A-Za-z0-9_-]{1,64}$/.test(id) && id !== "default") {
    base.searchParams.set("campaign", id);
  }
  const lang = script.dataset.lang;
  if (lang && /^[a-z]{2,3}$/.test(lang)) base.searchParams.set("lang", lang);
  const frame = document.createElement("iframe");
  frame.src = base.href;
  frame.title = script.dataset.title || "netreach";
  frame.loading = "lazy";
  frame.referrerPolicy = "no-referrer";
  Object.assign(frame.style, {
    display: "block", width: "100%", maxWidth: "46rem", height: card === undefined ? "640px" : "400px", border: "0",
    margin: "1rem auto",
  });
  window.addEventListener("message", (event) => {
    if (event.source !== frame.contentWindow || event.origin !== base.origin) return;
    const data = event.data;
    if (data && data.type === "netreach:ready") {
      // The frame tells its height (rounded up to 200 px) only to the page that says hello,
      // and only to that page's origin, as the browser states it to the frame.
      frame.contentWindow.postMessage({ type: "netreach:hello" }, base.origin);
    } else if (data && data.type === "netreach:height" && Number.isFinite(data.height)) {
      frame.style.height = Math.min(Math.max(data.height, 200), 8000) + "px";
    }
  });
  script.after(frame);
})();
