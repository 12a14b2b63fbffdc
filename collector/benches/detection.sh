#!/usr/bin/env bash
# Query time of GET /v1/disruptions and of the dashboard's GET /v1/aggregates on PostgreSQL
# holding N stored reports (default: 1 M, then 3 M, then 10 M, filled in turn).
#
#   collector/benches/detection.sh [N...]
#
# The reports: the default campaign's 12 platforms, one real report document
# (examples/sample_report) repeated, spread evenly over the 30 days before now on 40 networks
# in 10 countries (each report its own sender); each platform's verdict drawn at random per
# report (2 % blocked, 1 % partial, 3 % inconclusive, the rest reachable), and X blocked on one
# network for the last 6 hours, so that detection has an event to find. Each report's
# connection condition is drawn too (1 % offline, 2 % degraded, the rest normal) with control
# figures around 150 ms and 8 Mbit/s, so that the rollups of conditions and figures are as
# full as the verdicts'. Each fill writes its reports in time order (row ids grow with the
# hour, as a collector's do), so an hour's rows sit together as in a real database. The tables are the
# collector's own (its migrations create them); rows are added with INSERT ... SELECT FROM
# generate_series, the indexes dropped during the fill and then made again as the migrations
# make them, then VACUUM ANALYZE; then `netreach-collector rollup --at-once` folds every hour
# received before the current one into the hourly rollups in one transaction (timed: the first
# pass over an existing database; an hour per transaction, the server's way, reads each
# report's verdicts by report, which at 10 M reports, a database larger than memory, took
# 20 s an hour here, hours for the 720). The cluster runs with fsync off to fill faster (reads are
# not affected); the rest of its settings are PostgreSQL's defaults (shared_buffers 128 MB).
#
# Each query is asked REPEAT (default 5) times with the collector's answer cache off, and the median
# and the max printed. Needs PostgreSQL server binaries (/usr/lib/postgresql/*/bin) and root
# (PostgreSQL is started as `postgres`), as collector/benches/ingest.sh.
set -euo pipefail

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1000000 3000000 10000000)
REPEAT=${REPEAT:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/netreach-detection.XXXXXX)
chmod 755 "$WORK"
PID=""
PG_DATA=""
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ -n "$PG_DATA" ]; then runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the collector (release) ..." >&2
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --quiet --release -p netreach-collector --bin netreach-collector --example sample_report)
BIN="$CARGO_TARGET_DIR/release/netreach-collector"
mkdir -p "$WORK/campaigns"
cp "$ROOT/www/campaigns/default.json" "$WORK/campaigns/"
"$CARGO_TARGET_DIR/release/examples/sample_report" "$WORK/campaigns/default.json" > "$WORK/report.json"

# PostgreSQL's port and the collector's (the next one); DETECTION_PORT when 18192 is taken.
PORT=${DETECTION_PORT:-18192}
HTTP_PORT=$((PORT + 1))
PG_DATA="$WORK/pg"
mkdir -p "$PG_DATA"; chown postgres:postgres "$PG_DATA" "$WORK" "$WORK/report.json"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/log" -w \
  -o "-p $PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_wal_size=2GB -c maintenance_work_mem=512MB" \
  start >/dev/null
runuser -u postgres -- "$PG_BIN/createdb" -h 127.0.0.1 -p $PORT -U postgres bench
PG_VERSION=$(runuser -u postgres -- "$PG_BIN/psql" -h 127.0.0.1 -p $PORT -U postgres -d bench \
  -Atc 'SHOW server_version' | awk '{print $1}')
DB="postgres://postgres@127.0.0.1:$PORT/bench"
psql() { runuser -u postgres -- "$PG_BIN/psql" -h 127.0.0.1 -p $PORT -U postgres -d bench -v ON_ERROR_STOP=1 -q "$@"; }

wait_for() { # URL
  for _ in $(seq 1 600); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  echo "no answer from $1" >&2; exit 1
}

# The collector, with its answer cache and read limit off so that every request is measured,
# and limits (rows, database time) wide enough for the largest set.
start_collector() {
  "$BIN" --listen 127.0.0.1:$HTTP_PORT --database "$DB" --campaigns "$WORK/campaigns" --www "$ROOT/www" \
    --aggregate-cache-seconds 0 --aggregate-rate-limit 0 --max-aggregate-rows 10000000 \
    --db-timeout-ms 600000 --request-timeout-ms 600000 > "$WORK/collector.log" 2>&1 &
  PID=$!
  wait_for "http://127.0.0.1:$HTTP_PORT/healthz"
}
stop_collector() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# The schema: the collector's migrations.
start_collector
stop_collector

HOURS=720
NOW_HOUR=$(( $(date +%s) / 3600 * 3600 ))
FIRST_HOUR=$(( NOW_HOUR - (HOURS - 1) * 3600 ))

# Adds reports FROM .. TO-1 (by number) and their verdicts.
fill() { # FROM TO
  (cd "$WORK" && psql -v from="$1" -v to="$2" -v first="$FIRST_HOUR" -v hours="$HOURS" -v now="$NOW_HOUR" <<'SQL'
\set doc `cat report.json`
INSERT INTO reports (received_at, started_at, campaign, cc, asn, browser, browser_version, os,
                     runtime_ms, report, new_sender, connection, control_ms, control_kbps)
SELECT t, t, 'default',
       (ARRAY['PK','IR','TR','RU','BR','IN','EG','ET','MM','US'])[(i % 40) / 4 + 1],
       1000 + i % 40, 'chrome', 156, 'android', i, :'doc', 1,
       CASE WHEN c < 1 THEN 'offline' WHEN c < 3 THEN 'degraded' ELSE 'normal' END,
       CASE WHEN c < 1 THEN NULL WHEN c < 3 THEN 900 + i % 600 ELSE 100 + i % 100 END,
       CASE WHEN c < 1 THEN NULL WHEN c < 3 THEN 900 + i % 500 ELSE 6000 + i % 4000 END
FROM (SELECT i, :first + ((i - :from) * :hours / (:to - :from)) * 3600 AS t,
             floor(random() * 100) AS c
      FROM generate_series(:from::BIGINT, :to::BIGINT - 1) AS i) AS runs;
INSERT INTO verdicts (report_id, platform, started_at, cc, asn, verdict, reason, new_sender,
                      campaign)
SELECT r.id, p.platform, r.started_at, r.cc, r.asn,
       CASE
         WHEN r.asn = 1000 AND p.platform = 'x' AND r.started_at > :now - 6 * 3600 THEN 'blocked'
         WHEN p.x < 2 THEN 'blocked'
         WHEN p.x < 3 THEN 'partial'
         WHEN p.x < 6 THEN 'inconclusive'
         ELSE 'reachable'
       END,
       'endpoints_loaded', 1, r.campaign
FROM reports r,
     LATERAL (SELECT platform, floor(random() * 100) AS x
              FROM unnest(ARRAY['x','facebook','instagram','youtube','tiktok','whatsapp',
                                'telegram','google','signal','wikipedia','reddit','discord'])
                   AS platform
              WHERE r.id IS NOT NULL) AS p
WHERE r.runtime_ms >= :from AND r.runtime_ms < :to;
SQL
  )
}

# The fill adds reports received in hours the rollups already hold (a collector never stores
# one like that), so the rollups are made afresh after each fill.
roll_up() {
  psql -c "TRUNCATE rollup_verdicts, rollup_senders, rollup_connections, rollup_figures; UPDATE rollup_state SET rolled_before = 0;"
  local start
  start=$(date +%s)
  "$BIN" rollup --at-once --database "$DB" >&2
  ROLLED=$(( $(date +%s) - start ))
}

drop_indexes() {
  psql -c "ALTER TABLE verdicts DROP CONSTRAINT verdicts_pkey; DROP INDEX reports_received, reports_run;"
}
# As the migrations in collector/src/storage/postgres.rs make them.
make_indexes() {
  psql -c "ALTER TABLE verdicts ADD PRIMARY KEY (report_id, platform);
    CREATE INDEX reports_received ON reports (received_at);
    CREATE INDEX reports_run ON reports (started_at, cc, asn, runtime_ms);"
  psql -c "VACUUM ANALYZE"
}

# Prints "median max" seconds of REPEAT requests to URL, and checks each answered 200.
timed() { # URL
  local times=()
  for _ in $(seq 1 "$REPEAT"); do
    local out
    out=$(curl -s -o "$WORK/answer.json" -w '%{http_code} %{time_total}' "$1")
    [ "${out%% *}" = 200 ] || { echo "$1 answered ${out%% *}: $(head -c 300 "$WORK/answer.json")" >&2; exit 1; }
    times+=("${out#* }")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {printf "%.3f %.3f", a[int((NR+1)/2)], a[NR]}'
}

ROWS=()
# Times the four queries on what is stored and adds a row to the table.
measure() { # REPORTS SIZE LABEL
  start_collector
  local base="http://127.0.0.1:$HTTP_PORT" R D_MED D_MAX EVENTS FOUND DC_MED DC_MAX A_MED A_MAX AC_MED AC_MAX
  R=$(timed "$base/v1/disruptions") || exit 1
  read -r D_MED D_MAX <<<"$R"
  EVENTS=$( { grep -o '"scope"' "$WORK/answer.json" || true; } | wc -l)
  FOUND=$(head -c 300 "$WORK/answer.json")
  R=$(timed "$base/v1/disruptions?cc=PK") || exit 1
  read -r DC_MED DC_MAX <<<"$R"
  # The dashboard's first query: every cell of the last 7 days, hourly.
  R=$(timed "$base/v1/aggregates?bucket=hour") || exit 1
  read -r A_MED A_MAX <<<"$R"
  R=$(timed "$base/v1/aggregates?bucket=hour&cc=PK&asn=1000") || exit 1
  read -r AC_MED AC_MAX <<<"$R"
  stop_collector
  echo "$1 reports$3: database $2; rollups made in ${ROLLED} s; disruptions $D_MED/$D_MAX s ($EVENTS events: $FOUND); disruptions?cc=PK $DC_MED/$DC_MAX s; aggregates 7 days hourly $A_MED/$A_MAX s; aggregates one network $AC_MED/$AC_MAX s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  ROWS+=("| $1$3 | $2 | $ROLLED | $D_MED / $D_MAX | $DC_MED / $DC_MAX | $A_MED / $A_MAX | $AC_MED / $AC_MAX | $EVENTS |")
}
STORED=0
for N in "${SIZES[@]}"; do
  [ "$N" -gt "$STORED" ] || { echo "sizes must grow: $N after $STORED" >&2; exit 1; }
  echo "== filling to $N reports ..." >&2
  START=$(date +%s)
  drop_indexes
  fill "$STORED" "$N"
  make_indexes
  STORED=$N
  FILLED=$(( $(date +%s) - START ))
  echo "filled in ${FILLED} s" >&2
  roll_up
  SIZE=$(psql -Atc "SELECT pg_size_pretty(pg_database_size('bench'))")
  measure "$N" "$SIZE" ""
  if [ -n "${COVERING:-}" ]; then
    # An experiment: indexes that cover every column the two grouped queries read, so that
    # PostgreSQL can answer them from the indexes alone (dropped again before the next fill).
    psql -c "CREATE INDEX covering_verdicts ON verdicts (started_at, cc, asn, platform, verdict, new_sender);
      CREATE INDEX covering_senders ON reports (started_at, cc, asn, new_sender);"
    psql -c "VACUUM ANALYZE"
    measure "$N" "$(psql -Atc "SELECT pg_size_pretty(pg_database_size('bench'))")" " + covering indexes"
    psql -c "DROP INDEX covering_verdicts, covering_senders;"
  fi
done

cat <<TABLE

PostgreSQL $PG_VERSION, $(nproc) cores; reports over 30 days, 40 networks in 10 countries, 12 platforms; $REPEAT requests each, answer cache off; seconds, median / max.

| reports | database | rollups made (s) | GET /v1/disruptions (7 days) | ?cc=PK | GET /v1/aggregates (7 days, hourly, all) | one network | events |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
TABLE
printf '%s\n' "${ROWS[@]}"
