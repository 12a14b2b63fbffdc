#!/usr/bin/env bash
# Collector ingest benchmark: sustained valid reports per second with durable storage
# (SQLite, then PostgreSQL), driven by wrk from a second process on loopback, beside nginx
# answering 204 to the same requests on the same machine. Prints a Markdown table.
#
#   collector/benches/ingest.sh [SECONDS] [CONNECTIONS]      (defaults: 20 s, 32 connections)
#
# Needs wrk, nginx (nginx-light) and PostgreSQL server binaries (/usr/lib/postgresql/*/bin);
# run from anywhere inside the repository, as root (PostgreSQL is started as `postgres`).
# The collector is built with the workspace release profile (opt-level 3, unwinding panics).
set -euo pipefail

SECONDS_PER_RUN=${1:-20}
CONNECTIONS=${2:-32}
THREADS=1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/netreach-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
PG_DATA=""
PG_BIN=""
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DATA" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true; fi
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for tool in wrk nginx; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (apt-get install wrk nginx-light)" >&2; exit 1; }
done

echo "building the collector (release, opt-level 3) ..." >&2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --quiet --release -p netreach-collector --bin netreach-collector --example sample_report)
BIN="$CARGO_TARGET_DIR/release/netreach-collector"

# A realistic report: the default campaign (12 platforms, 3 trials per endpoint).
mkdir -p "$WORK/campaigns"
cp "$ROOT/www/campaigns/default.json" "$WORK/campaigns/"
"$CARGO_TARGET_DIR/release/examples/sample_report" "$WORK/campaigns/default.json" > "$WORK/report.json"
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("NETREACH_BENCH_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
LUA
export NETREACH_BENCH_BODY="$WORK/report.json"

wait_for() { # URL
  for _ in $(seq 1 200); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.05
  done
  echo "no answer from $1" >&2; exit 1
}

# Runs wrk against URL and prints "requests/s p50 p99 non2xx requests". Each request
# carries the Origin of the collector's own page, as the page's would.
drive() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s "$WORK/post.lua" \
    -H "Origin: ${1%/v1/reports}" "$1")
  echo "$out" >&2
  local rps p50 p99 non2xx total
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "$rps $p50 $p99 ${non2xx:-0} $total"
}

hwm() { awk '/^VmHWM:/ {print $2 " " $3}' "/proc/$1/status"; }

stored() { curl -s "http://$1/metrics" | awk '/^netreach_reports_stored_total/ {print $2}'; }

# nginx: the same requests answered 204 without storing anything.
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/nginx/body;
  server {
    listen 127.0.0.1:18090;
    location / { return 204; }
  }
}
NGINX
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
wait_for "http://127.0.0.1:18090/"
echo "== nginx 204" >&2
read -r N_RPS N_P50 N_P99 N_BAD N_TOTAL <<<"$(drive http://127.0.0.1:18090/v1/reports)"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

run_collector() { # NAME DATABASE_URL PORT (the admin listener, /metrics, on PORT + 100)
  local admin="127.0.0.1:$(($3 + 100))"
  "$BIN" --listen "127.0.0.1:$3" --database "$2" --campaigns "$WORK/campaigns" --www "$ROOT/www" \
    --rate-limit 0 --admin-listen "$admin" > "$WORK/$1.log" 2>&1 &
  local pid=$!
  PIDS+=($pid)
  wait_for "http://127.0.0.1:$3/healthz"
  echo "== collector $1" >&2
  local result
  result=$(drive "http://127.0.0.1:$3/v1/reports")
  local rss count
  rss=$(hwm "$pid")
  count=$(stored "$admin")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  echo "$result $rss $count"
}

read -r S_RPS S_P50 S_P99 S_BAD S_TOTAL S_RSS S_UNIT S_STORED <<<"$(run_collector sqlite "sqlite://$WORK/bench.db" 18091)"

# PostgreSQL: a fresh cluster in the work folder (fsync and synchronous_commit on: durable).
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PG_DATA="$WORK/pg"
mkdir -p "$PG_DATA"; chown postgres:postgres "$PG_DATA" "$WORK"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/log" -w \
  -o "-p 18092 -k $PG_DATA -c listen_addresses=127.0.0.1" start >/dev/null
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p 18092 -U postgres bench
# The version that runs, for the table (Debian adds its package version: "15.18 (Debian ...)").
PG_VERSION=$(runuser -u postgres -- "$PG_BIN/psql" -h 127.0.0.1 -p 18092 -U postgres -d bench \
  -Atc 'SHOW server_version' | awk '{print $1}')
read -r P_RPS P_P50 P_P99 P_BAD P_TOTAL P_RSS P_UNIT P_STORED <<<"$(run_collector postgres "postgres://postgres@127.0.0.1:18092/bench" 18093)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
cat <<TABLE

wrk: $THREADS thread, $CONNECTIONS connections, ${SECONDS_PER_RUN} s per run; body $(wc -c < "$WORK/report.json") bytes (default campaign, 12 platforms); $(nproc) cores.

| server | requests/s | vs nginx | p50 | p99 | non-2xx | stored | peak RSS (VmHWM) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| nginx, \`return 204\` | $N_RPS | 1.00 | $N_P50 | $N_P99 | $N_BAD | n/a | n/a |
| collector, SQLite (WAL, synchronous=FULL) | $S_RPS | $(ratio "$S_RPS" "$N_RPS") | $S_P50 | $S_P99 | $S_BAD | $S_STORED of $S_TOTAL | $S_RSS $S_UNIT |
| collector, PostgreSQL $PG_VERSION (fsync, synchronous_commit on) | $P_RPS | $(ratio "$P_RPS" "$N_RPS") | $P_P50 | $P_P99 | $P_BAD | $P_STORED of $P_TOTAL | $P_RSS $P_UNIT |
TABLE
