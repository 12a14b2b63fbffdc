// window.runProbes(targets, opts) -> array of records; each target {cause, kind: "fetch"|"img", url}
performance.setResourceTimingBufferSize(100000);
const csp = [];
document.addEventListener("securitypolicyviolation", e => csp.push({url: e.blockedURI, dir: e.violatedDirective, t: performance.now()}));
const sleep = ms => new Promise(r => setTimeout(r, ms));
function rt(url) {
  return performance.getEntriesByName(url).map(e => ({
    start: +e.startTime.toFixed(1), dur: +e.duration.toFixed(1), fetchStart: +e.fetchStart.toFixed(1),
    dnsS: +e.domainLookupStart.toFixed(1), dnsE: +e.domainLookupEnd.toFixed(1),
    connS: +e.connectStart.toFixed(1), connE: +e.connectEnd.toFixed(1), tlsS: +(e.secureConnectionStart||0).toFixed(1),
    reqS: +e.requestStart.toFixed(1), respS: +e.responseStart.toFixed(1), respE: +e.responseEnd.toFixed(1),
    transferSize: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize,
    status: e.responseStatus, proto: e.nextHopProtocol, init: e.initiatorType}));
}
async function one(t, timeoutMs, waitMs) {
  const rec = {cause: t.cause, kind: t.kind, url: t.url};
  const t0 = performance.now();
  if (t.kind === "fetch") {
    const ac = new AbortController(); const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const r = await fetch(t.url, {mode: "no-cors", cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer", signal: ac.signal});
      rec.outcome = "resolved"; rec.type = r.type; rec.status = r.status;
      rec.msHeaders = +(performance.now() - t0).toFixed(1);
      try { await r.arrayBuffer(); } catch (e) { rec.bodyErr = e.name + ": " + e.message; }
    } catch (e) {
      rec.outcome = ac.signal.aborted ? "timeout" : "rejected"; rec.err = e.name + ": " + e.message;
    }
    clearTimeout(timer);
  } else {
    // exactly as the engine: detached HTMLImageElement + decode()
    const im = new Image(); im.referrerPolicy = "no-referrer"; im.src = t.url;
    let timer;
    rec.outcome = await Promise.race([
      im.decode().then(() => "decoded", e => { rec.err = e.name + ": " + e.message; return "rejected"; }),
      new Promise(res => { timer = setTimeout(() => { im.src = ""; res("timeout"); }, timeoutMs); })]);
    clearTimeout(timer);
  }
  rec.ms = +(performance.now() - t0).toFixed(1);
  await sleep(waitMs);
  rec.rt = rt(t.url);
  rec.csp = csp.filter(c => c.url && t.url.startsWith(c.url.split("?")[0])).length;
  return rec;
}
window.runProbes = async (targets, opts) => {
  const out = [];
  const serial = targets.filter(t => !t.parallel), par = targets.filter(t => t.parallel);
  for (const t of serial) out.push(await one(t, opts.timeoutMs, opts.waitMs));
  out.push(...await Promise.all(par.map(t => one(t, opts.timeoutMs, opts.waitMs))));
  return out;
};
