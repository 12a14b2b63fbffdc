import json, sys
for f in sys.argv[1:]:
    d = json.load(open(f))
    for r in d["results"]:
        rt = r.get("rt") or []
        print(f'{r["page"]:5} {r["cause"][:22]:22} {r["kind"]:5} {r["outcome"]:8} {r["ms"]:7} {r.get("msHeaders","")!s:6} {(r.get("err","")+r.get("bodyErr",""))[:50]:50} csp={r.get("csp")} rt={len(rt)} ' + (json.dumps({k: rt[0][k] for k in ("dur","transferSize","status","respE","connS","dnsE","respS")}) if rt else ""))
