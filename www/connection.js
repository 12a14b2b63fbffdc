// What the page tells the visitor about their connection itself, rather than about one
// platform (issue #13): that the network seems down when not even the reference sites
// (controls) loaded, and, after Submit, when the collector judged the controls far slower than
// that network's own usual for the hour (`connection: "degraded"` in the answer to POST
// /v1/reports, with the network's `typical` figures when they are published).
//
// No DOM and no words here: app.js draws the notes; tests/page_connection.rs runs this module
// in Node.js.

/** Whether the run could judge nothing because the visitor's connection is down: every
 *  platform is inconclusive for the one reason that the reference sites failed too (the
 *  engine's `controls_failed`). A run stopped by the visitor, or with any verdict, is not. */
export function offline(report) {
  const platforms = (report && report.platforms) || [];
  return platforms.length > 0
    && platforms.every((p) => p.verdict === "inconclusive" && p.reason === "controls_failed");
}

function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The visitor's own figures from the report's controls, as the collector computes them
 *  (`netreach::classify::figures`): the median time of the visible attempts that loaded (ms),
 *  and the lowest, over the controls, of each one's median throughput (kbit/s, as the
 *  engine's `Attempt::kbps`); null where no attempt gives one. */
export function ownFigures(report) {
  const controls = (report && report.controls) || [];
  const loaded = (c) => (c.attempts || []).filter((a) => a.outcome === "ok");
  const ms = median(controls.flatMap(loaded).filter((a) => !a.hidden)
    .map((a) => a.ms).filter(Number.isFinite));
  const perControl = controls.map((c) => median(loaded(c)
    .filter((a) => Number.isFinite(a.bytes) && Number.isFinite(a.duration_ms))
    .map((a) => (a.bytes * 8) / Math.max(a.duration_ms, 1)))).filter((k) => k !== null);
  const kbps = perControl.length ? Math.min(...perControl) : null;
  return { ms, kbps };
}

function figure(value) {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/**
 * What to say after Submit, from the collector's answer: null unless it judged the connection
 * `degraded` (a `normal` one, an `offline` one, which the page said before Submit, and an
 * older collector's answer without the field say nothing new); else the figures to show, the
 * visitor's own (`ms`, `kbps`) beside the network's usual ones (`typicalMs`, `typicalKbps`,
 * null when not published), each figure only when the visitor's own exists.
 */
export function degraded(answer, report) {
  if (!answer || answer.connection !== "degraded") return null;
  const own = ownFigures(report);
  const typical = answer.typical && typeof answer.typical === "object" ? answer.typical : {};
  return {
    ms: own.ms,
    kbps: own.kbps,
    typicalMs: own.ms === null ? null : figure(typical.control_ms),
    typicalKbps: own.kbps === null ? null : figure(typical.control_kbps),
  };
}
