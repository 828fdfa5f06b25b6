#!/usr/bin/env bash
# bench/track.sh: what change tracking costs on the shared dataset (issue 12).
#
#   * UPDATE throughput on erp.orders with and without the capture trigger
#     (pgbench -M prepared, same script, same clients, back to back);
#   * the latency of a delta poll with no pending change and with 10,000.
#
# Needs the dataset that `make bench-load` loads (database odatagw_bench,
# ODATAGW_BENCH_DSN). Installs tracking on erp.orders for the run and removes
# it afterwards. Results: bench/results/track.md (and on stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
source bench/lib/common.sh

DSN=${ODATAGW_BENCH_DSN:-postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable}
CLIENTS=${BENCH_TRACK_CLIENTS:-8}
DURATION=$(dur_secs "${BENCH_TRACK_DURATION:-15s}")
POLLS=${BENCH_TRACK_POLLS:-20}
WORK=bench/.work/track
mkdir -p "$WORK"
trap 'stop_all; bin/odatagw track remove --config "$WORK/track.yaml" --db "$DSN" --schemas erp >/dev/null 2>&1 || true' EXIT

n=$(psql "$DSN" -Atc 'SELECT count(*) FROM erp.orders' 2>/dev/null) || die "no shared dataset in $DSN: run make bench-load first"
((n > 0)) || die "erp.orders is empty: run make bench-load first"
make --no-print-directory build >/dev/null

cat >"$WORK/track.yaml" <<'EOF'
sets:
  erp.orders: {track_changes: true}
guard: {rate_per_second: -1}
EOF
cat >"$WORK/update.sql" <<EOF
\set id random(1, $n)
UPDATE erp.orders SET status = status WHERE order_id = :id;
EOF

# tps_of OUTPUT: pgbench's tps (excluding connection time).
tps_of() { sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1; }

# Alternate without/with the trigger (ROUNDS each, median), so that warm-up
# and background load do not favour one side.
ROUNDS=${BENCH_TRACK_ROUNDS:-3}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
plain_runs=() tracked_runs=()
for ((r = 1; r <= ROUNDS; r++)); do
  bin/odatagw track remove --config "$WORK/track.yaml" --db "$DSN" --schemas erp >/dev/null 2>&1 || true
  log "round $r: UPDATE erp.orders without tracking ($CLIENTS clients, ${DURATION}s)"
  plain_runs+=("$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -f "$WORK/update.sql" "$DSN" 2>&1 | tps_of)")
  bin/odatagw track install --config "$WORK/track.yaml" --db "$DSN" --schemas erp >/dev/null
  log "round $r: UPDATE erp.orders with tracking"
  tracked_runs+=("$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" -f "$WORK/update.sql" "$DSN" 2>&1 | tps_of)")
done
plain=$(printf '%s\n' "${plain_runs[@]}" | median)
tracked=$(printf '%s\n' "${tracked_runs[@]}" | median)
# Start the delta measurements from an empty log.
psql "$DSN" -qc "DELETE FROM odatagw.changes"

port=$(free_port)
start_bg . "$WORK/gateway.log" bin/odatagw serve --listen "127.0.0.1:$port" --db "$DSN" --schemas erp \
  --config "$WORK/track.yaml" --log-level warn --log-format json
gw=$BG_PID
base="http://127.0.0.1:$port/odata"
wait_http "$base/\$metadata" 60 "$gw" || die "gateway did not start (see $WORK/gateway.log)"

# poll_ms LINK: median milliseconds of POLLS GETs of LINK (each answers the
# same changes: the link is not advanced).
poll_ms() {
  local link=$1 i
  for ((i = 0; i < POLLS; i++)); do
    curl -s -o /dev/null -w '%{time_total}\n' "$link"
  done | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]*1000}'
}
deltalink() { sed -n 's/.*"@odata.deltaLink":"\([^"]*\)".*/\1/p'; }

link=$(curl -s -H 'Prefer: odata.track-changes' "$base/orders?\$top=0" | deltalink)
[[ -n $link ]] || die "no delta link from the handshake"
idle=$(poll_ms "$link")
log "10,000 pending changes"
psql "$DSN" -qc "UPDATE erp.orders SET status = status WHERE order_id IN (SELECT order_id FROM erp.orders ORDER BY order_id LIMIT 10000)"
first=$(poll_ms "$link")
# The whole delta answer: 5 pages of 2,000.
start=$(date +%s.%N)
pages=0 entries=0 next=$link
while [[ -n $next ]]; do
  body=$(curl -s "$next")
  pages=$((pages + 1))
  entries=$((entries + $(grep -o '"order_id":' <<<"$body" | wc -l)))
  next=$(sed -n 's/.*"@odata.nextLink":"\([^"]*\)".*/\1/p' <<<"$body")
done
walk=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.0f", (e-s)*1000}')

ratio=$(awk -v a="$tracked" -v b="$plain" 'BEGIN {printf "%.2f", a/b}')
{
  echo "| measure | value |"
  echo "|---|---|"
  echo "| UPDATE erp.orders, pgbench -M prepared, $CLIENTS clients, no tracking (median of $ROUNDS, alternating) | $plain tps (${plain_runs[*]}) |"
  echo "| same, with the capture trigger | $tracked tps (${tracked_runs[*]}); ratio $ratio |"
  echo "| delta poll, no pending change (median of $POLLS) | $idle ms |"
  echo "| delta poll, 10,000 pending changes: first page of 2,000 (median of $POLLS) | $first ms |"
  echo "| delta poll, 10,000 pending changes: whole answer ($pages pages, $entries entries) | $walk ms |"
  echo
  echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)."
} | tee bench/results/track.md
