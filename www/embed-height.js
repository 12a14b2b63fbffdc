// The embed frame's height, for the page that embeds it (embed.js) and no one else.
//
// The frame's height follows its content, and the content follows the verdicts (a platform
// explained at length, the report shown), so the exact height would tell the embedding page
// something of the reader's results. The height is therefore rounded up to whole steps of
// HEIGHT_STEP pixels, and posted only once the embedding page has said hello: to the origin
// the browser gives that hello (event.origin, which a page cannot choose), never to "*". The
// frame asks for the hello with `netreach:ready`, which says nothing else. A page that frames
// embed.html without embed.js is told nothing and keeps its own height.

export const HEIGHT_STEP = 200;

/** The height to tell: `px` rounded up to a whole step, one step at least. */
export const coarseHeight = (px) => Math.max(1, Math.ceil(px / HEIGHT_STEP)) * HEIGHT_STEP;

/**
 * Inside a frame, says `netreach:ready` to the parent, waits for its `netreach:hello` and
 * from then on posts the coarse height of `measure()` to the hello's origin whenever it
 * changes. Returns the function to call after a resize, or null outside a frame.
 */
export function reportHeight(win, measure) {
  if (win.parent === win) return null;
  let origin = null;
  let told = 0;
  const post = () => {
    if (origin === null) return;
    const height = coarseHeight(measure());
    if (height === told) return;
    told = height;
    win.parent.postMessage({ type: "netreach:height", height }, origin);
  };
  win.addEventListener("message", (event) => {
    if (event.source !== win.parent || !event.data || event.data.type !== "netreach:hello") return;
    // An opaque origin (a sandboxed page) cannot be addressed: it gets nothing.
    if (typeof event.origin !== "string" || event.origin === "null") return;
    origin = event.origin;
    told = 0;
    post();
  });
  win.parent.postMessage({ type: "netreach:ready" }, "*");
  return post;
}
