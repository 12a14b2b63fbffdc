import json, sys, statistics as st, collections
def fmt(v): return "-" if not v else f"{st.median(v):.0f} [{min(v):.0f}-{max(v):.0f}]"
for f in sys.argv[1:]:
    d = json.load(open(f)); g = collections.OrderedDict()
    for r in d["results"]:
        g.setdefault((r["page"], r["cause"]), {"fetch": [], "img": []})[r["kind"]].append(r)
    print(f"\n## {d['browser']} {d['label']}")
    print("| cause | fetch outcome (n) | fetch error | fetch ms med [min-max] | fetch RT entry: n, dur med, transferSize, status | img decode() outcome | img ms med [min-max] | img RT: n, dur med | CSP event |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (page, cause), k in g.items():
        def desc(rs):
            oc = collections.Counter(r["outcome"] for r in rs)
            return ", ".join(f"{o} {n}" for o, n in oc.items())
        def rtd(rs):
            e = [r["rt"][0] for r in rs if r.get("rt")]
            if not e: return "none"
            return f'{len(e)}/{len(rs)}, {st.median([x["dur"] for x in e]):.0f} ms, ts={sorted(set(x["transferSize"] for x in e))}, st={sorted(set(x["status"] or 0 for x in e))}'
        F, I = k["fetch"], k["img"]
        errs = sorted(set((r.get("err") or "")[:45] for r in F if r.get("err")))
        print(f'| {cause}{" ("+page+" page)" if page!="main" else ""} | {desc(F)} | {"; ".join(errs) or "-"} | {fmt([r["ms"] for r in F])} | {rtd(F)} | {desc(I)} | {fmt([r["ms"] for r in I])} | {rtd(I)} | {sum(1 for r in F+I if r.get("csp"))} |')
