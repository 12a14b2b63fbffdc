#!/bin/sh
# netlab.sh up RTT_MS | down   -- browser ns "sigb" (10.77.0.1) <-veth-> root fwd <-veth-> server ns "sigs" (10.77.0.2)
set -e
D=$(cd "$(dirname "$0")" && pwd)
case "$1" in
up)
  RTT=${2:-0}
  ip netns add sigb; ip netns add sigs
  ip link add sb0 type veth peer name sb1; ip link add ss0 type veth peer name ss1
  ip link set sb0 netns sigb; ip link set ss0 netns sigs
  for i in sb1 ss1; do ip link set $i mtu 65535 up; done
  ip netns exec sigb sh -c 'ip link set lo up; ip link set sb0 mtu 65535 up; ip addr add 10.77.0.1/24 dev sb0'
  ip netns exec sigs sh -c 'ip link set lo up; ip link set ss0 mtu 65535 up; ip addr add 10.77.0.2/24 dev ss0'
  ip netns exec sigb python3 $D/ethtool_off.py sb0; ip netns exec sigs python3 $D/ethtool_off.py ss0
  python3 $D/ethtool_off.py sb1 ss1
  mkdir -p /etc/netns/sigb
  printf 'nameserver 10.77.0.2\noptions timeout:3 attempts:1\n' > /etc/netns/sigb/resolv.conf
  printf '127.0.0.1 localhost\n' > /etc/netns/sigb/hosts
  nohup python3 $D/delayfwd.py sb1 ss1 $RTT > $D/fwd.log 2>&1 & echo $! > $D/fwd.pid
  ;;
down)
  [ -f $D/fwd.pid ] && kill $(cat $D/fwd.pid) || true; rm -f $D/fwd.pid
  ip netns del sigb || true; ip netns del sigs || true
  ip link del sb1 2>/dev/null || true; ip link del ss1 2>/dev/null || true
  ;;
esac
