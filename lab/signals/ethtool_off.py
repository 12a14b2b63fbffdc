# disable checksum/segmentation offloads on an interface via SIOCETHTOOL (no ethtool binary here)
import fcntl, socket, struct, sys
SIOCETHTOOL = 0x8946
CMDS = {"tx": 0x17, "sg": 0x19, "tso": 0x1f, "gso": 0x24, "gro": 0x2c}  # ETHTOOL_S* set commands
def set_(ifname, cmd, val):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ev = bytearray(struct.pack("II", cmd, val))
    import array, ctypes
    buf = ctypes.create_string_buffer(bytes(ev))
    ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(buf))
    try:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
        return "ok"
    except OSError as e:
        return str(e)
for ifn in sys.argv[1:]:
    print(ifn, {k: set_(ifn, c, 0) for k, c in CMDS.items()})
