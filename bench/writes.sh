#!/usr/bin/env bash
# bench/writes.sh: write latency under load (issue 17: on the OData 4.01
# adapter every write is a synchronous callout, so a slow write is a slow
# Salesforce save). 8 clients PATCH random orders of the shared dataset
# through the gateway (wrk, bench/lua/mixed.lua at 100% writes) and, in the
# same run, PostgreSQL runs the UPDATE … RETURNING the gateway sends
# (bench/pgbench/W7_write.sql, pgbench -M prepared). Each write sets the status
# the seed gave the order, so the data set does not drift.
#
# Needs the dataset of `make bench-load` (ODATAGW_BENCH_DSN, default database
# odatagw_bench). Result: bench/results/writes.md (and stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
source bench/lib/common.sh

DSN=${ODATAGW_BENCH_DSN:-postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable}
CLIENTS=${BENCH_WRITE_CLIENTS:-8}
DURATION=${BENCH_WRITE_DURATION:-15s}
WORK=bench/.work/writes
mkdir -p "$WORK"
trap stop_all EXIT

n=$(psql "$DSN" -Atc 'SELECT count(*) FROM erp.orders' 2>/dev/null) || die "no shared dataset in $DSN: run make bench-load first"
((n > 0)) || die "erp.orders is empty: run make bench-load first"
make --no-print-directory build >/dev/null
printf 'guard: {rate_per_second: -1}\n' >"$WORK/gw.yaml"

port=$(free_port)
start_bg . "$WORK/gateway.log" bin/odatagw serve --listen "127.0.0.1:$port" --db "$DSN" --schemas erp \
  --config "$WORK/gw.yaml" --log-level warn --log-format json
wait_http "http://127.0.0.1:$port/odata/\$metadata" 60 "$BG_PID" || die "gateway did not start (see $WORK/gateway.log)"

log "PATCH orders(id) through the gateway: $CLIENTS clients, $DURATION"
gw=$(BENCH_LUA_DIR=bench/lua BENCH_READ_PATH=/odata/orders BENCH_PATCH_FMT='/odata/orders(%d)' BENCH_WRITE_PCT=100 \
  BENCH_KEY_MAX="$n" wrk -t2 -c"$CLIENTS" -d"$DURATION" -s bench/lua/mixed.lua "http://127.0.0.1:$port" |
  sed -n 's/^BENCH_RESULT //p')
[[ -n $gw ]] || die "wrk gave no result"
log "the same UPDATE … RETURNING in PostgreSQL (pgbench -M prepared)"
pg=$(pgbench -n -M prepared -c "$CLIENTS" -j 2 -T "$(dur_secs "$DURATION")" -r -f bench/pgbench/W7_write.sql "$DSN" 2>&1)
pg_tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$pg" | head -1)
pg_lat=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$pg" | head -1)

{
  echo "| measure | odatagw PATCH | PostgreSQL UPDATE … RETURNING |"
  echo "|---|---|---|"
  echo "| writes/s ($CLIENTS clients, $DURATION) | $(jq -r '.rps' <<<"$gw") | $pg_tps |"
  echo "| latency p50 / p90 / p99 (ms) | $(jq -r '"\(.p50_ms) / \(.p90_ms) / \(.p99_ms)"' <<<"$gw") | average $pg_lat |"
  echo "| errors | $(jq -r '.errors' <<<"$gw") | |"
  echo
  echo "Machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)."
} | tee bench/results/writes.md
