#!/usr/bin/env python3
# run.py BROWSER LABEL [REPS] [--policy] : drives one headless browser (inside netns sigb) over plain WebDriver HTTP
import json, os, shutil, subprocess, sys, time, urllib.request
D = os.path.dirname(os.path.abspath(__file__))
browser, label = sys.argv[1], sys.argv[2]
reps = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 5
policy = "--policy" in sys.argv
PORT = 9515 if browser == "chromium" else 4444
def wd(method, path, body=None, timeout=900):
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return json.load(r)["value"]
    except urllib.error.HTTPError as e: raise RuntimeError(e.read().decode()[:2000])
work = f"{D}/run-{browser}-{label}"; shutil.rmtree(work, ignore_errors=True); os.makedirs(work)
mounts = ""
if browser == "chromium":
    home = f"{work}/home"; os.makedirs(f"{home}/.pki/nssdb")
    subprocess.run(f"certutil -N --empty-password -d sql:{home}/.pki/nssdb && certutil -A -d sql:{home}/.pki/nssdb -t C,, -n labca -i {D}/certs/ca.pem", shell=True, check=True)
    if policy: mounts = f"mount --bind {D}/etc-chromium /etc/chromium && "
    cmd = f"{mounts}exec env HOME={home} /usr/bin/chromedriver --port={PORT} --log-path={work}/driver.log"
    caps = {"browserName": "chrome", "goog:chromeOptions": {"binary": "/usr/bin/chromium", "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={work}/udd",
        f"--load-extension={D}/ext", f"--disable-extensions-except={D}/ext"]}}
else:
    prof = f"{work}/profile"; os.makedirs(prof)
    subprocess.run(f"certutil -N --empty-password -d sql:{prof} && certutil -A -d sql:{prof} -t C,, -n labca -i {D}/certs/ca.pem", shell=True, check=True)
    prefs = {"network.trr.mode": 5, "network.dns.disableIPv6": True, "network.dns.disablePrefetch": True,
             "network.prefetch-next": False, "network.http.speculative-parallel-limit": 0, "network.proxy.type": 0,
             "privacy.trackingprotection.enabled": True, "browser.contentblocking.category": "strict", "urlclassifier.trackingTable.testEntries": "tp.example",
             "browser.safebrowsing.update.enabled": False, "browser.safebrowsing.provider.mozilla.updateURL": "",
             "extensions.manifestV3.enabled": True, "app.update.enabled": False, "network.captive-portal-service.enabled": False,
             "network.connectivity-service.enabled": False, "browser.region.network.url": ""}
    with open(f"{prof}/user.js", "w") as f:
        for k, v in prefs.items(): f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
    if policy: mounts = f"mount --bind {D}/ff-dist /usr/lib/firefox-esr/distribution && "
    cmd = f"{mounts}exec /root/.cargo/bin/geckodriver --port {PORT} --log info > {work}/driver.log 2>&1"
    caps = {"browserName": "firefox", "moz:firefoxOptions": {"binary": "/usr/bin/firefox-esr", "args": ["-headless", "-profile", prof]}}
drv = subprocess.Popen(["ip", "netns", "exec", "sigb", "sh", "-c", cmd])
try:
    for _ in range(50):
        try: wd("GET", "/status"); break
        except Exception: time.sleep(0.2)
    sid = wd("POST", "/session", {"capabilities": {"alwaysMatch": caps}})["sessionId"]
    if browser == "firefox":
        print("addon", wd("POST", f"/session/{sid}/moz/addon/install", {"path": f"{D}/ext", "temporary": True}))
    wd("POST", f"/session/{sid}/timeouts", {"script": 900000, "pageLoad": 30000})
    time.sleep(2)  # let the extension register its rules
    def targets(rep_tag, page):
        T = []
        for i in range(reps):
            for kind in ("fetch", "img"):
                n = f"{rep_tag}{i}{kind[0]}"; q = f"?i={n}"
                def add(cause, url, **kw): T.append(dict(cause=cause, kind=kind, url=url + q, **kw))
                if page == "main":
                    add("ctl-warm(same origin)", "http://lab.example:8000/img.png")
                    add("ctl-fresh http", f"http://{n}.ok.example:8001/img.png")
                    add("ctl-fresh https", f"https://{n}.ok.example:9443/img.png")
                    add("ext DNR block", f"http://{n}.blocked.example:8001/img.png")
                    add("ext DNR block https", f"https://{n}.blocked.example:9443/img.png")
                    add("refused", f"http://{n}.refused.example:8002/img.png")
                    add("RST after HTTP req", f"http://{n}.rst.example:8003/img.png")
                    add("RST after ClientHello", f"https://{n}.rst.example:8003/img.png")
                    add("NXDOMAIN fresh", f"http://{n}.nx.example:8001/img.png")
                    add("NXDOMAIN repeat name", "http://same.nx.example:8001/img.png")
                    add("TLS wrong cert", f"https://{n}.mitm.example:8443/img.png")
                    add("refused on loopback", f"http://{n}.lo.example:8002/img.png")
                    add("HTTP 404", f"http://{n}.ok.example:8001/404.png")
                    add("200 text/html", f"http://{n}.ok.example:8001/html.png")
                    add("FF tracking prot.", f"http://{n}.tp.example:8001/img.png")
                    add("FF TP builtin moztest", f"http://{n}.itisatracker.org:8001/img.png")
                    if policy: add("enterprise policy", f"http://{n}.policy.example:8001/img.png")
                    add("hang (no answer)", f"http://{n}.hang.example:8004/img.png", parallel=True)
                elif page == "csp":
                    add("CSP refusal", f"http://{n}.ok.example:8001/img.png")
                    add("CSP ctl same origin", "http://lab.example:8000/img.png")
                elif page == "mixed":
                    add("mixed content http", f"http://{n}.ok.example:8001/img.png")
                    add("mixed ctl https", f"https://{n}.ok.example:9443/img.png")
        return T
    if "--navcheck" in sys.argv:
        for u in ["http://n1.policy.example:8001/img.png", "http://n2.ok.example:8001/img.png", "http://n3.blocked.example:8001/img.png"]:
            try: wd("POST", f"/session/{sid}/url", {"url": u}); r = "navigated"
            except Exception as e: r = str(e)[:200]
            src = wd("POST", f"/session/{sid}/execute/sync", {"script": "return location.href + ' | ' + document.title + ' | ' + (document.body ? document.body.innerText.slice(0,160) : '')", "args": []})
            print("NAV", u, "->", r, "|", src.replace("\n", " "))
        wd("DELETE", f"/session/{sid}"); sys.exit(0)
    results = []
    for page, url in [("main", "http://lab.example:8000/probe.html"), ("csp", "http://lab.example:8000/probe.html?csp=1"),
                      ("mixed", "https://lab.example:9443/probe.html")]:
        wd("POST", f"/session/{sid}/url", {"url": url})
        t = targets(page[0], page)
        r = wd("POST", f"/session/{sid}/execute/async", {"script":
            "const [t, o, done] = arguments; window.runProbes(t, o).then(done, e => done([{error: String(e)}]));",
            "args": [t, {"timeoutMs": 10000, "waitMs": 1000}]})
        for x in r: x["page"] = page
        results += r
        print(page, len(r), flush=True)
    json.dump({"browser": browser, "label": label, "results": results}, open(f"{work}/results.json", "w"), indent=1)
    wd("DELETE", f"/session/{sid}")
finally:
    drv.terminate(); drv.wait()
