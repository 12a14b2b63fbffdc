# all lab servers; run inside netns sigs:  ip netns exec sigs python3 servers.py DNS_DELAY_MS
import socket, ssl, sys, threading, time, os, struct
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from dnslib import DNSRecord, RR, A, QTYPE, RCODE
D = os.path.dirname(os.path.abspath(__file__)); DNS_DELAY = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.0
ZONE = {"lab.example": "10.77.0.2", "ok.example": "10.77.0.2", "blocked.example": "10.77.0.2",
        "refused.example": "10.77.0.2", "rst.example": "10.77.0.2", "hang.example": "10.77.0.2",
        "mitm.example": "10.77.0.2", "tp.example": "10.77.0.2", "policy.example": "10.77.0.2",
        "lo.example": "127.0.0.1", "itisatracker.org": "10.77.0.2", "trackertest.org": "10.77.0.2"}
def lookup(name):
    name = name.rstrip(".").lower()
    for z, ip in ZONE.items():
        if name == z or name.endswith("." + z): return ip
    return None
def dns_udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("10.77.0.2", 53))
    def answer(data, addr):
        q = DNSRecord.parse(data); r = q.reply(); name = str(q.q.qname); ip = lookup(name)
        if ip is None: r.header.rcode = RCODE.NXDOMAIN
        elif q.q.qtype == QTYPE.A: r.add_answer(RR(q.q.qname, QTYPE.A, rdata=A(ip), ttl=60))
        time.sleep(DNS_DELAY); s.sendto(r.pack(), addr)
        print("dns", name, QTYPE[q.q.qtype], ip, flush=True)
    while True:
        data, addr = s.recvfrom(4096); threading.Thread(target=answer, args=(data, addr), daemon=True).start()
class H(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def __init__(self, *a, **k): super().__init__(*a, directory=D + "/www", **k)
    def log_message(self, *a): pass
    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        self.send_header("Timing-Allow-Origin", "*")
        if getattr(self, "csp", False):
            self.send_header("Content-Security-Policy", "connect-src 'self'; img-src 'self'")
        super().end_headers()
    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/404.png": return self.send_error(404, "gone")
        if p == "/html.png":
            b = b"<!doctype html><title>login</title>" * 10
            self.send_response(200); self.send_header("Content-Type", "text/html"); self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b); return
        self.csp = "csp=1" in self.path
        if p.startswith("/probe.html"): self.path = "/probe.html"
        return super().do_GET()
def http(port, ctx=None):
    srv = ThreadingHTTPServer(("0.0.0.0", port), H); srv.daemon_threads = True
    if ctx: srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()
def tls_ctx(cert, key):
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(D + "/certs/" + cert, D + "/certs/" + key); return c
def rst_server(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen(64)
    def h(c):
        c.settimeout(5)
        try: c.recv(4096)          # ClientHello or HTTP request
        except OSError: pass
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)); c.close()
    while True:
        c, _ = s.accept(); threading.Thread(target=h, args=(c,), daemon=True).start()
def hang_server(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen(64)
    keep = []
    while True:
        c, _ = s.accept(); keep.append(c)
class TLSHTTP(ThreadingHTTPServer):
    def __init__(s, addr, ctx): s.ctx = ctx; super().__init__(addr, H)
    def get_request(s):
        c, a = s.socket.accept()
        return s.ctx.wrap_socket(c, server_side=True, do_handshake_on_connect=False), a
    def finish_request(s, req, addr):
        try: req.do_handshake()
        except (ssl.SSLError, OSError): return
        super().finish_request(req, addr)
def https(port, cert, key):
    srv = TLSHTTP(("0.0.0.0", port), tls_ctx(cert, key)); srv.daemon_threads = True; srv.serve_forever()
for t in [(dns_udp, ()), (http, (8000,)), (http, (8001,)), (https, (9443, "leaf.pem", "leaf.key")),
          (https, (8443, "mitm.pem", "mitm.key")), (rst_server, (8003,)), (hang_server, (8004,))]:
    threading.Thread(target=t[0], args=t[1], daemon=True).start()
print("servers up", flush=True)
while True: time.sleep(3600)
