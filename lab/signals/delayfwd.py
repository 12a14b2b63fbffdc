# userspace "netem": bridge two interfaces with AF_PACKET, delaying every frame by D/2 ms each way
import socket, sys, threading, time, heapq
a, b, rtt = sys.argv[1], sys.argv[2], float(sys.argv[3])
half = rtt / 2000.0
def mk(ifn):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.bind((ifn, 0)); return s
sa, sb = mk(a), mk(b)
def pump(src, dst):
    q = []; cv = threading.Condition(); seq = [0]
    def sender():
        while True:
            with cv:
                while not q: cv.wait()
                t, _, f = q[0]
                now = time.monotonic()
                if t > now:
                    cv.wait(t - now); continue
                heapq.heappop(q)
            try: dst.send(f)
            except OSError as e: print("send", e, len(f), flush=True)
    threading.Thread(target=sender, daemon=True).start()
    while True:
        f, addr = src.recvfrom(70000)
        if addr[2] == socket.PACKET_OUTGOING: continue
        with cv:
            seq[0] += 1
            heapq.heappush(q, (time.monotonic() + half, seq[0], f)); cv.notify()
threading.Thread(target=pump, args=(sa, sb), daemon=True).start()
pump(sb, sa)
