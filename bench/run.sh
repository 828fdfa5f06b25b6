#!/usr/bin/env bash
# bench/run.sh: the load benchmark (make bench-load). One command, idempotent.
#
# Measures side by side, on the shared ERP data set (../shared/bench/erp_seed.sql):
#   odatagw   over HTTP with wrk (Lua done() hook prints req/s, p50, p99);
#   postgres  the SQL odatagw generates, run by pgbench at the same concurrency;
#   cap       SAP CAP (../shared/bench/cap-peer) over HTTP with wrk.
# Workloads W1..W8 are described in bench/README.md. Results:
#   bench/results/latest.md and bench/results/latest.json.
#
# Every knob is an environment variable (defaults in brackets):
#   ODATAGW_BENCH_DSN     PostgreSQL [postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable]
#   BENCH_DURATION        per measurement [15s]       BENCH_WARMUP   warm-up before each [3s, 0 = none]
#   BENCH_CONNECTIONS     clients [8]                 BENCH_THREADS  wrk threads / pgbench -j [2]
#   BENCH_RSS_CONNECTIONS clients of the RSS run [64] BENCH_LAT_DURATION first/deep page runs [10s]
#   BENCH_TARGETS         subset of "odatagw postgres cap"   BENCH_WORKLOADS subset of "W1 ... W10"
#   BENCH_BUILD           1 = make build first [1]    BENCH_GW_BIN   [bin/odatagw]
#   BENCH_GW_ARGS         extra `odatagw serve` args  BENCH_GW_LOG_LEVEL level while measuring [info]
#   BENCH_GW_CONFIG       --config file ["" = generated: rate limit off; none = no file]
#   BENCH_CAPTURE_SQL     1 = capture odatagw's SQL for pgbench from its debug log [1]
#   BENCH_CAP_PORT        [4004]                      BENCH_GW_PORT  [a free port]
#   BENCH_CAP_POOL        JSON for cds.requires.db.pool [{"acquireTimeoutMillis": 60000}; {} = CAP defaults]
#   BENCH_PGBENCH_MODE    pgbench -M [prepared]       BENCH_PGBENCH_SAMPLING -l sampling rate [0.1]
#   BENCH_W3_SKIP         where the W3 walk starts [850000]  BENCH_W3_PAGES nextLinks to walk [50]
#   BENCH_W8_PAGES        pages per W8 walk [40]      BENCH_SINGLE_DURATION 1-client W6/W6e runs [BENCH_LAT_DURATION]
#   BENCH_SCALE           seed scale [1]              BENCH_WORK_DIR [bench/.work]  BENCH_RESULTS_DIR [bench/results]
#   BENCH_PROGRESS        long steps (the seed load): live on a terminal, else plain lines [auto]; live|plain|off
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$BENCH_DIR/.." && pwd)"
SHARED="${BENCH_SHARED:-$(cd "$REPO/.." && pwd)/shared}"
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$BENCH_DIR/lib/common.sh"

DSN="${ODATAGW_BENCH_DSN:-postgres://postgres@127.0.0.1:5432/odatagw_bench?sslmode=disable}"
DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-3s}"
CONNS="${BENCH_CONNECTIONS:-8}"
THREADS="${BENCH_THREADS:-2}"
RSS_CONNS="${BENCH_RSS_CONNECTIONS:-64}"
LAT_DURATION="${BENCH_LAT_DURATION:-10s}"
TARGETS=" ${BENCH_TARGETS:-odatagw postgres cap} "
WORKLOADS="${BENCH_WORKLOADS:-W1 W2 W3 W4 W5 W6 W6e W7 W8 W8n W8e W9 W10}"
BUILD="${BENCH_BUILD:-1}"
GW_BIN="${BENCH_GW_BIN:-$REPO/bin/odatagw}"
GW_ARGS="${BENCH_GW_ARGS:-}"
GW_LOG_LEVEL="${BENCH_GW_LOG_LEVEL:-info}"
GW_CONFIG="${BENCH_GW_CONFIG:-}"
CAPTURE_SQL="${BENCH_CAPTURE_SQL:-1}"
CAP_PORT="${BENCH_CAP_PORT:-4004}"
# CAP's pool (@cap-js/postgres defaults: max 10, acquireTimeoutMillis 1000) fails
# queued requests after 1 s when pages are slow; let them queue instead.
CAP_POOL="${BENCH_CAP_POOL:-{\"acquireTimeoutMillis\": 60000\}}"
GW_PORT="${BENCH_GW_PORT:-}"
PGBENCH_MODE="${BENCH_PGBENCH_MODE:-prepared}"
PGBENCH_SAMPLING="${BENCH_PGBENCH_SAMPLING:-0.1}"
W3_SKIP="${BENCH_W3_SKIP:-850000}"
W3_PAGES="${BENCH_W3_PAGES:-50}"
W8_PAGES="${BENCH_W8_PAGES:-40}"
SINGLE_DURATION="${BENCH_SINGLE_DURATION:-$LAT_DURATION}"
SCALE="${BENCH_SCALE:-1}"
WORK="${BENCH_WORK_DIR:-$BENCH_DIR/.work}"
OUT="${BENCH_RESULTS_DIR:-$BENCH_DIR/results}"
export BENCH_LUA_DIR="$BENCH_DIR/lua"
# One $skiptoken signing key for every gateway process of the run: the W3
# nextLinks are collected by the capture gateway and replayed by the next one.
if [[ -z ${ODATAGW_TOKEN_KEY:-} ]]; then
  ODATAGW_TOKEN_KEY="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  export ODATAGW_TOKEN_KEY
fi

DUR_SECS=$(dur_secs "$DURATION")
((THREADS <= CONNS)) || THREADS=$CONNS
want() { [[ $TARGETS == *" $1 "* ]]; }
has_workload() { [[ " $WORKLOADS " == *" $1 "* ]]; }

# ---- workloads --------------------------------------------------------------
# Paths relative to the service root (…/odata/). Both services get the same
# query; only the entity-set names differ (CAP: Customers, Orders; odatagw:
# the table names).
# shellcheck disable=SC2016 # OData's $ options are literal text
W1_Q='$select=order_id,customer_id,order_date,status,total&$filter=status%20eq%20%27Open%27&$orderby=order_id'
W2_KEY='C0012345'
# shellcheck disable=SC2016
W4_Q='$filter=status%20eq%20%27Open%27'
# shellcheck disable=SC2016
W5_Q='$search=Tokyo&$top=25'
# shellcheck disable=SC2016
W6_Q='$select=order_id,customer_id,status,total&$count=true&$top=26'
# shellcheck disable=SC2016
WALK_Q='$select=order_id,customer_id,order_date,status,total&$orderby=order_id'
# W8: W1's query walked through its nextLinks, with and without $count=true
W8_Q="$W1_Q"
# W9: a page of 100 Japanese customers, each with its 5 latest orders ($expand:
# one query for the page, one for all their orders, paged per customer)
# shellcheck disable=SC2016
W9_Q='$select=customer_id,name&$filter=country%20eq%20%27JP%27&$orderby=customer_id&$top=100&$expand=orders($select=order_id,order_date,total;$orderby=order_date%20desc;$top=5)'
# W10: revenue and order count per status over all orders ($apply: one GROUP BY)
# shellcheck disable=SC2016
W10_Q='$apply=groupby((status),aggregate(total%20with%20sum%20as%20revenue,$count%20as%20n))'
# The second gateway (W6e, the estimates) counts orders with the planner's estimate.
EST_CONFIG=$'sets:\n  erp.orders:\n    count: estimated\n'
W7_PROBE_ID=777777 # status in the seed: statuses[1 + 777777 % 5] = Shipped
W7_PROBE_STATUS=Shipped
declare -A DESC=(
  [W1]="2,000-row page of orders: \$select 5 columns, \$filter=status eq 'Open', \$orderby=order_id"
  [W2]="key lookup customers('$W2_KEY')"
  [W3]="walk of $W3_PAGES consecutive nextLink pages of orders starting at \$skip=$W3_SKIP, replayed round-robin"
  [W4]="orders/\$count?\$filter=status eq 'Open'"
  [W5]="customers?\$search=Tokyo&\$top=25"
  [W6]="Salesforce list view: orders?\$select 4 columns&\$count=true&\$top=26 (count exact)"
  [W6e]="W6 on a second gateway with sets: {erp.orders: {count: estimated}} (the planner's estimate)"
  [W7]="mixed: 90% W6 reads, 10% PATCH orders(id) {status} (same value as seeded)"
  [W8]="walk of $W8_PAGES pages of W1 (status eq 'Open') following @odata.nextLink, with \$count=true; req/s = walks/s"
  [W8n]="W8 without \$count=true"
  [W8e]="W8 on the second gateway (count: estimated): the walk's count is the planner's estimate"
  [W9]="\$expand: 100 customers (country JP) each with its 5 latest orders (odatagw only: the CAP peer has no associations)"
  [W10]="\$apply: groupby((status),aggregate(total with sum as revenue,\$count as n)) over all orders"
)
# path SERVICE WORKLOAD -> request path (without the base URL) for a single-URL workload.
path() {
  local svc=$1 w=$2 cust=customers ord=orders
  if [[ $svc == cap ]]; then cust=Customers ord=Orders; fi
  case $w in
    W1) echo "/odata/$ord?$W1_Q" ;;
    W2) echo "/odata/$cust(%27$W2_KEY%27)" ;;
    W4) echo "/odata/$ord/\$count?$W4_Q" ;;
    W5) echo "/odata/$cust?$W5_Q" ;;
    W6 | W6e) echo "/odata/$ord?$W6_Q" ;;
    W8 | W8e) echo "/odata/$ord?$W8_Q&\$count=true" ;;
    W8n) echo "/odata/$ord?$W8_Q" ;;
    W9) echo "/odata/$cust?$W9_Q" ;;
    W10) echo "/odata/$ord?$W10_Q" ;;
    first) echo "/odata/$ord?$WALK_Q" ;;
    walk) echo "/odata/$ord?$WALK_Q&\$skip=$W3_SKIP" ;;
    patch) echo "/odata/$ord(%d)" ;;
  esac
}

# patch_path SERVICE ID -> path of one order (the W7 write target)
patch_path() { local p; p=$(path "$1" patch); echo "${p/\%d/$2}"; }

# ---- tools --------------------------------------------------------------------
apt_install() {
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing $*"
    apt-get install -y "$@" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "$@" >/dev/null 2>&1; }
  fi
}
check_tools() {
  command -v wrk >/dev/null || apt_install wrk
  command -v jq >/dev/null || apt_install jq
  local t
  for t in wrk jq curl psql pgbench awk setsid; do
    command -v "$t" >/dev/null || die "missing tool: $t (install it: apt-get install -y wrk jq curl postgresql-client pgbench)"
  done
  if want cap; then
    for t in node npm; do command -v "$t" >/dev/null || die "missing tool: $t (needed for the CAP peer; or BENCH_TARGETS='odatagw postgres')"; done
  fi
}

# ---- database -----------------------------------------------------------------
admin_dsn() { # the same server, database "postgres"
  local base=${DSN%%\?*} query=
  [[ $DSN == *\?* ]] && query="?${DSN#*\?}"
  echo "${base%/*}/postgres$query"
}
dsn_dbname() { local base=${DSN%%\?*}; echo "${base##*/}"; }
psqlq() { psql "$DSN" -X -v ON_ERROR_STOP=1 -Atq "$@"; }

ensure_database() {
  if ! psqlq -c 'select 1' >/dev/null 2>&1; then
    local db
    db=$(dsn_dbname)
    log "creating database $db"
    psql "$(admin_dsn)" -X -v ON_ERROR_STOP=1 -Atq -c "CREATE DATABASE \"${db//\"/\"\"}\"" ||
      die "cannot create database $db via $(admin_dsn)"
  fi
  local want_counts have
  want_counts="$((100000 * SCALE))|$((1000000 * SCALE))|$((3000000 * SCALE))|10000"
  have=$(psqlq -c 'select (select count(*) from erp.customers), (select count(*) from erp.orders),
                    (select count(*) from erp.order_lines), (select count(*) from erp.products)' 2>/dev/null || true)
  if [[ $have != "$want_counts" ]]; then
    log "loading erp_seed.sql (scale $SCALE; takes a few minutes; found '${have:-no erp schema}')"
    psql_file_progress "$DSN" "$SHARED/bench/erp_seed.sql" "$WORK/seed.log" -v ON_ERROR_STOP=1 -v scale="$SCALE" ||
      die "seed load failed, see $WORK/seed.log"
    log "erp_seed.sql loaded"
  else
    log "erp data already loaded ($have)"
  fi
  # every run: visibility map and statistics as after a fresh load (W7 leaves dead tuples)
  psqlq -c 'VACUUM ANALYZE erp.customers, erp.orders, erp.order_lines, erp.products' || die "vacuum failed"
  psqlq -f "$SHARED/bench/cap-peer/views.sql" >/dev/null 2>&1 || die "views.sql failed"
}

# ---- machine --------------------------------------------------------------------
record_machine() {
  local cpu mem pgv
  cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
  [[ -n $cpu ]] || cpu=$(lscpu 2>/dev/null | awk -F': *' '/Model name/ {print $2; exit}')
  mem=$(awk '/^MemTotal/ {printf "%d", $2 / 1024}' /proc/meminfo)
  pgv=$(psqlq -c 'show server_version' 2>/dev/null || echo unknown)
  jset .machine "$(jq -n --arg cpu "$cpu" --argjson nproc "$(nproc)" --argjson mem "$mem" \
    --arg kernel "$(uname -sr)" --arg pg "$pgv" --arg pgbench "$(pgbench --version 2>/dev/null | head -1)" \
    --arg wrk "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')" \
    --arg node "$(node --version 2>/dev/null || echo none)" --arg go "$(go version 2>/dev/null | awk '{print $3}' || echo none)" \
    --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    '{cpu: $cpu, nproc: $nproc, ram_mb: $mem, kernel: $kernel, postgres: $pg, pgbench: $pgbench, wrk: $wrk,
      node: $node, go: $go, loadavg_start: $load}')"
}

# ---- CAP peer ---------------------------------------------------------------------
CAP_PID='' CAP_BASE=''
start_cap() {
  local dir="$WORK/cap" src="$SHARED/bench/cap-peer" base host port user pass db
  mkdir -p "$dir"
  cp -R "$src/db" "$src/srv" "$dir/"
  # credentials from the DSN (trust auth: any password)
  base=${DSN#*://}
  base=${base%%\?*}
  local userinfo='' hostport=$base
  if [[ $base == *@* ]]; then userinfo=${base%%@*} hostport=${base#*@}; fi
  db=${hostport#*/}
  hostport=${hostport%%/*}
  host=${hostport%%:*}
  port=5432
  [[ $hostport == *:* ]] && port=${hostport##*:}
  user=${userinfo%%:*}
  user=${user:-postgres}
  pass=postgres
  [[ $userinfo == *:* ]] && pass=${userinfo#*:}
  jq --arg host "$host" --argjson port "$port" --arg user "$user" --arg pass "$pass" --arg db "$db" \
    --argjson pool "$CAP_POOL" \
    '.cds.requires.db.credentials += {host: $host, port: $port, user: $user, password: $pass, database: $db, schema: "erp"}
     | if $pool != {} then .cds.requires.db.pool = $pool else . end' \
    "$src/package.json" >"$dir/package.json.new"
  if ! cmp -s "$dir/package.json.new" "$dir/package.json" || [[ ! -x $dir/node_modules/.bin/cds-serve ]]; then
    mv "$dir/package.json.new" "$dir/package.json"
    log "npm install for the CAP peer (versions pinned by cap-peer/package.json)"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >"$WORK/cap-npm.log" 2>&1) ||
      { warn "CAP: npm install failed (see $WORK/cap-npm.log); CAP is skipped"; return 1; }
  else
    rm -f "$dir/package.json.new"
  fi
  port_free "$CAP_PORT" || CAP_PORT=$(free_port 4005)
  CAP_BASE="http://127.0.0.1:$CAP_PORT"
  log "starting CAP on port $CAP_PORT"
  start_bg "$dir" "$WORK/cap.log" npx --no-install cds-serve --port "$CAP_PORT"
  CAP_PID=$BG_PID
  if ! wait_http "$CAP_BASE/odata/\$metadata" 120 "$CAP_PID"; then
    warn "CAP did not serve \$metadata within 120 s (see $WORK/cap.log); CAP is skipped"
    stop_pid "$CAP_PID"
    CAP_PID=
    return 1
  fi
  jsets .cap.version "$(cd "$dir" && node -p 'require("@sap/cds/package.json").version + " / @cap-js/postgres " + require("@cap-js/postgres/package.json").version' 2>/dev/null || echo unknown)"
}

# cap_node_pid: the node process serving CAP (a child of npx in CAP's session).
cap_node_pid() {
  [[ -n $CAP_PID ]] || return 0
  ps -o pid=,comm= -s "$CAP_PID" 2>/dev/null | awk '$2 == "node" {p = $1} END {print p}'
}

# ---- odatagw --------------------------------------------------------------------------
GW_PID='' GW_BASE='' GW_LOG=''
build_gw() {
  [[ $BUILD == 1 ]] || return 0
  log "building odatagw"
  if [[ -f $REPO/Makefile ]] && grep -q '^build:' "$REPO/Makefile"; then
    (cd "$REPO" && make build) >"$WORK/build.log" 2>&1
  else
    (cd "$REPO" && go build -o "$GW_BIN" ./cmd/odatagw) >"$WORK/build.log" 2>&1
  fi
}
gw_dsn() { # lib/pq defaults to sslmode=require; a local bench server has no TLS
  if [[ $DSN == *sslmode=* ]]; then echo "$DSN"; elif [[ $DSN == *\?* ]]; then echo "$DSN&sslmode=disable"; else echo "$DSN?sslmode=disable"; fi
}
# start_gw LEVEL TAG: starts the gateway; sets GW_PID, GW_BASE, GW_LOG.
start_gw() {
  local level=$1 tag=$2 port=${GW_PORT:-}
  [[ -n $port ]] && port_free "$port" || port=$(free_port)
  GW_BASE="http://127.0.0.1:$port"
  GW_LOG="$WORK/odatagw-$tag.log"
  log "starting odatagw ($tag, log level $level) on port $port"
  local config=()
  case $GW_CONFIG in
    none) ;;
    '')
      # every benchmark request comes from one principal (anonymous), like
      # Salesforce's: the per-principal rate limit (default 50/s) would cap it
      printf '# written by bench/run.sh\nguard:\n  rate_per_second: -1\n%s%s' "${GW_EXTRA_GUARD:-}" "${GW_EXTRA_CONFIG:-}" >"$WORK/odatagw-$tag.yaml"
      config=(--config "$WORK/odatagw-$tag.yaml")
      ;;
    *) config=(--config "$GW_CONFIG") ;;
  esac
  # shellcheck disable=SC2086 # GW_ARGS is a list of words
  start_bg "$REPO" "$GW_LOG" "$GW_BIN" serve "${config[@]}" --listen "127.0.0.1:$port" --db "$(gw_dsn)" \
    --schemas erp --log-level "$level" --log-format json $GW_ARGS
  GW_PID=$BG_PID
  if ! wait_http "$GW_BASE/odata/\$metadata" 60 "$GW_PID"; then
    warn "odatagw did not serve \$metadata within 60 s (see $GW_LOG)"
    stop_pid "$GW_PID"
    GW_PID=
    return 1
  fi
}
stop_gw() { [[ -z $GW_PID ]] || stop_pid "$GW_PID"; GW_PID=; }

# The second gateway, for W6e and the estimate check: the same binary and
# settings with sets.erp.orders.count = estimated (EST_CONFIG). It needs the
# generated config (BENCH_GW_CONFIG unset).
EST_PID='' EST_BASE='' EST_LOG=''
start_est() {
  local level=$1 tag=$2 pid=$GW_PID gwbase=$GW_BASE gwlog=$GW_LOG rc=0
  if [[ -n $GW_CONFIG ]]; then
    warn "W6e and the estimates need the generated config (BENCH_GW_CONFIG is set): skipped"
    return 1
  fi
  GW_EXTRA_CONFIG=$EST_CONFIG start_gw "$level" "$tag" || rc=1
  EST_PID=$GW_PID EST_BASE=$GW_BASE EST_LOG=$GW_LOG
  GW_PID=$pid GW_BASE=$gwbase GW_LOG=$gwlog
  return $rc
}
stop_est() { [[ -z $EST_PID ]] || stop_pid "$EST_PID"; EST_PID=; }

# base SERVICE [WORKLOAD] -> base URL (W6e: the estimating gateway)
base() {
  if [[ $1 == cap ]]; then echo "$CAP_BASE"; elif [[ ${2:-} == W6e || ${2:-} == W8e ]]; then echo "$EST_BASE"; else echo "$GW_BASE"; fi
}
# server_pid SERVICE [WORKLOAD] -> the process serving it (for CPU time)
server_pid() {
  if [[ $1 == cap ]]; then cap_node_pid; elif [[ ${2:-} == W6e || ${2:-} == W8e ]]; then echo "$EST_PID"; else echo "$GW_PID"; fi
}

# ---- probes: check each request answers correctly before loading it -----------------
# probe SERVICE WORKLOAD: GET once; records status and rows under .probe.
probe() {
  local svc=$1 w=$2 url body code rows
  url="$(base "$svc" "$w")$(path "$svc" "$w")"
  body="$WORK/raw/probe-$svc-$w.json"
  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 120 -H 'Accept: application/json' "$url" || echo 000)
  rows=$(jq -r 'if type == "object" and has("value") then (.value | length) elif type == "number" then . else "entity" end' "$body" 2>/dev/null || echo "?")
  jset ".probe.$svc.$w" "$(jq -n --arg c "$code" --arg r "$rows" '{status: ($c | tonumber), rows: $r}')"
  if [[ $code != 200 ]]; then
    warn "$svc $w: GET $(path "$svc" "$w") answered $code: $(head -c 300 "$body")"
    return 1
  fi
  if [[ $w == W1 && $rows != 2000 ]]; then
    warn "$svc W1 returned $rows rows, not 2000 (server page size differs; ratios are not like for like)"
  fi
}

# walk SERVICE: follows nextLinks from the deep start; writes $WORK/walk-SERVICE.txt (paths).
walk() {
  local svc=$1 url next n=0 b
  b=$(base "$svc")
  url="$b$(path "$svc" walk)"
  : >"$WORK/walk-$svc.txt"
  while ((n < W3_PAGES)); do
    next=$(curl -sf --max-time 120 -H 'Accept: application/json' "$url" | jq -r '."@odata.nextLink" // empty') || {
      warn "$svc W3: walk failed at page $((n + 1)) ($url)"
      break
    }
    [[ -n $next ]] || { warn "$svc W3: walk ended after $n nextLinks (no more pages)"; break; }
    case $next in
      http://* | https://*) url=$next ;;
      /*) url="$b$next" ;;
      *) url="$b/odata/$next" ;; # relative to the service root
    esac
    echo "${url#"$b"}" >>"$WORK/walk-$svc.txt"
    n=$((n + 1))
  done
  jset ".walk.$svc.pages" "$n"
  ((n > 0))
}

# ---- SQL capture (odatagw debug log -> pgbench files) -----------------------------------
# capture W REQUEST...: runs the requests (curl args; or --cmd COMMAND...), takes
# the statements the gateway (log $GW_LOG) logged meanwhile, writes $WORK/sql/W.sql.
# Falls back to bench/pgbench/W.sql.
capture() {
  local w=$1 special=${SPECIAL:-'{}'}
  shift
  local before after
  before=$(wc -l <"$GW_LOG")
  if [[ $1 == --cmd ]]; then
    shift
    "$@" >/dev/null 2>>"$WORK/raw/capture-$w.err" || true
  else
    curl -s -o /dev/null --max-time 120 -H 'Accept: application/json' "$@" || true
  fi
  sleep 0.3
  after=$(wc -l <"$GW_LOG")
  tail -n +"$((before + 1))" "$GW_LOG" | head -n "$((after - before))" |
    jq -rR --argjson special "$special" -f "$BENCH_DIR/lib/capture.jq" >"$WORK/sql/$w.sql.new" 2>/dev/null || true
  if [[ -s $WORK/sql/$w.sql.new ]] && ! grep -q '\$[0-9]' "$WORK/sql/$w.sql.new"; then
    mv "$WORK/sql/$w.sql.new" "$WORK/sql/$w.sql"
    log "captured SQL for $w: $(tr '\n' ' ' <"$WORK/sql/$w.sql" | head -c 200)"
    jsets ".sql_source.$w" captured
  else
    [[ -s $WORK/sql/$w.sql.new ]] && warn "$w: captured SQL still has \$n parameters; using the hand-written file"
    rm -f "$WORK/sql/$w.sql.new"
    warn "$w: no SQL captured from the gateway's debug log; pgbench runs the hand-written bench/pgbench/$w.sql"
  fi
}
capture_all() {
  has_workload W1 && capture W1 "$GW_BASE$(path odatagw W1)"
  has_workload W2 && capture W2 "$GW_BASE$(path odatagw W2)"
  if has_workload W3 && [[ -s $WORK/walk-odatagw.txt ]]; then
    capture W3 "$GW_BASE$(sed -n "$(((W3_PAGES + 1) / 2))p;\$p" "$WORK/walk-odatagw.txt" | head -1)"
  fi
  has_workload W4 && capture W4 "$GW_BASE$(path odatagw W4)"
  has_workload W5 && capture W5 "$GW_BASE$(path odatagw W5)"
  has_workload W6 && capture W6 "$GW_BASE$(path odatagw W6)"
  has_workload W9 && capture W9 "$GW_BASE$(path odatagw W9)"
  has_workload W10 && capture W10 "$GW_BASE$(path odatagw W10)"
  if has_workload W6e && [[ -n $EST_PID ]]; then
    GW_LOG=$EST_LOG capture W6e "$EST_BASE$(path odatagw W6e)"
    # the log names the estimate "EXPLAIN <query>"; the adapter sends EXPLAIN (FORMAT JSON)
    [[ ! -s $WORK/sql/W6e.sql ]] || sed -i 's/^EXPLAIN SELECT/EXPLAIN (FORMAT JSON) SELECT/' "$WORK/sql/W6e.sql"
  fi
  # W8: one whole walk (the count, then one statement per page)
  local w
  for w in W8 W8n; do
    has_workload $w && [[ -x $WALKER ]] && capture $w --cmd "$WALKER" -url "$GW_BASE$(path odatagw $w)" -pages "$W8_PAGES" -walks 1
  done
  if has_workload W8e && [[ -x $WALKER && -n $EST_PID ]]; then
    GW_LOG=$EST_LOG capture W8e --cmd "$WALKER" -url "$EST_BASE$(path odatagw W8e)" -pages "$W8_PAGES" -walks 1
    [[ ! -s $WORK/sql/W8e.sql ]] || sed -i 's/^EXPLAIN SELECT/EXPLAIN (FORMAT JSON) SELECT/' "$WORK/sql/W8e.sql"
  fi
  if has_workload W7 && [[ $GW_WRITES == 1 ]]; then
    # the probe key becomes :id and its status the seed's expression, so that
    # every pgbench write hits a random row and leaves the data as seeded
    SPECIAL="{\"$W7_PROBE_ID\": \":id\", \"$W7_PROBE_STATUS\": \"(ARRAY['Draft','Open','Shipped','Invoiced','Cancelled'])[1 + :id % 5]\"}" \
      capture W7_write -X PATCH -H 'Content-Type: application/json' --data "{\"status\":\"$W7_PROBE_STATUS\"}" \
      "$GW_BASE$(patch_path odatagw "$W7_PROBE_ID")"
    if [[ -s $WORK/sql/W7_write.sql ]]; then
      { echo '\set id random(1, 1000000)'; cat "$WORK/sql/W7_write.sql"; } >"$WORK/sql/W7_write.sql.new"
      mv "$WORK/sql/W7_write.sql.new" "$WORK/sql/W7_write.sql"
    fi
  fi
}
sql_file() { if [[ -s $WORK/sql/$1.sql ]]; then echo "$WORK/sql/$1.sql"; else echo "$BENCH_DIR/pgbench/$1.sql"; fi; }

# build_walker: the W8 client (bench/walker, its own Go module) -> $WALKER
WALKER="$WORK/walker"
build_walker() {
  (cd "$BENCH_DIR/walker" && go build -o "$WALKER" .) >"$WORK/walker-build.log" 2>&1 ||
    { warn "bench/walker did not build (see $WORK/walker-build.log): W8 skipped"; rm -f "$WALKER"; }
}

# writes_ok SERVICE: true when PATCH of an order answers 2xx (the row keeps its seeded status).
writes_ok() {
  local svc=$1 code
  code=$(curl -s -o "$WORK/raw/probe-$svc-patch.json" -w '%{http_code}' --max-time 30 -X PATCH \
    -H 'Content-Type: application/json' -H 'Accept: application/json' --data "{\"status\":\"$W7_PROBE_STATUS\"}" \
    "$(base "$svc")$(patch_path "$svc" "$W7_PROBE_ID")" || echo 000)
  jset ".probe.$svc.patch" "{\"status\": ${code:-0}}"
  [[ $code == 2?? ]]
}

# ---- measurement -------------------------------------------------------------------------
# cpu_ticks PID: user + system CPU clock ticks of PID so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wrk_run LABEL CONNS THREADS DURATION URL [SCRIPT] -> prints the BENCH_RESULT JSON (or nothing).
# SCRIPT "walker" runs bench/walker instead of wrk (W8: a request is a whole walk).
# With CPU_PID set, adds cpu_ms_per_req: that process's CPU time per completed request.
wrk_run() {
  local label=$1 c=$2 t=$3 d=$4 url=$5 script=${6:-$BENCH_LUA_DIR/report.lua} raw="$WORK/raw/wrk-$1.txt"
  load() { # DURATION
    if [[ $script == walker ]]; then
      "$WALKER" -url "$url" -pages "$W8_PAGES" -c "$c" -d "$1"
    else
      wrk -t "$t" -c "$c" -d "$1" --timeout 60s -H 'Accept: application/json' -s "$script" "$url"
    fi
  }
  if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
    load "$WARMUP" >/dev/null 2>&1 || true
  fi
  log "${script##*/} $label: -c $c -t $t -d $d $url"
  local t0=0 t1=0
  [[ -z ${CPU_PID:-} ]] || t0=$(cpu_ticks "$CPU_PID")
  load "$d" >"$raw" 2>&1 || true
  [[ -z ${CPU_PID:-} ]] || t1=$(cpu_ticks "$CPU_PID")
  local line
  line=$(sed -n 's/^BENCH_RESULT //p' "$raw" | tail -1)
  if [[ -z $line ]]; then
    warn "$label: wrk produced no result (see $raw)"
    return 0
  fi
  if [[ -n ${CPU_PID:-} ]]; then
    # CPU time (user + system) the server process spent per completed request
    line=$(jq -c --argjson ticks "$((t1 - t0))" --argjson hz "$(getconf CLK_TCK)" \
      '. + {cpu_ms_per_req: (if .requests > 0 then ($ticks * 1000 / $hz / .requests * 1000 | round) / 1000 else null end)}' <<<"$line")
  fi
  if [[ $(jq .errors <<<"$line") != 0 ]]; then
    warn "$label: $(jq -r '"\(.errors) of \(.requests) requests failed (\(.non2xx) non-2xx)"' <<<"$line")"
  fi
  echo "$line"
}

# pgbench_run LABEL FILE[@WEIGHT]... -> prints {"tps":..,"p50_ms":..,"p99_ms":..,"mean_ms":..,"failed":..}
pgbench_run() {
  local label=$1 f args=() raw="$WORK/raw/pgbench-$1.txt" logdir="$WORK/raw/pgbench-$1.log"
  shift
  for f in "$@"; do args+=(-f "$f"); done
  if [[ $WARMUP != 0 && $WARMUP != 0s ]]; then
    pgbench -n -c "$CONNS" -j "$THREADS" -T "$(dur_secs "$WARMUP")" -M "$PGBENCH_MODE" "${args[@]}" "$DSN" >/dev/null 2>&1 || true
  fi
  rm -rf "$logdir"
  mkdir -p "$logdir"
  log "pgbench $label: -c $CONNS -j $THREADS -T $DUR_SECS -M $PGBENCH_MODE $*"
  if ! pgbench -n -c "$CONNS" -j "$THREADS" -T "$DUR_SECS" -M "$PGBENCH_MODE" -l --log-prefix="$logdir/tx" \
    --sampling-rate="$PGBENCH_SAMPLING" "${args[@]}" "$DSN" >"$raw" 2>&1; then
    warn "$label: pgbench failed: $(tail -3 "$raw" | tr '\n' ' ')"
    return 0
  fi
  local tps failed pct
  tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$raw" | tail -1)
  failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$raw" | head -1)
  # sampled per-transaction latencies (column 3, microseconds) -> percentiles
  pct=$(cat "$logdir"/tx.* 2>/dev/null | awk '{print $3}' | sort -n | awk '
    { v[NR] = $1; s += $1 }
    END {
      if (NR == 0) { print "{}"; exit }
      i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
      i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
      printf "{\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"samples\":%d}", v[i50] / 1000, v[i99] / 1000, s / NR / 1000, NR
    }' || true)
  [[ -n $pct ]] || pct='{}'
  rm -rf "$logdir"
  jq -n --argjson tps "${tps:-0}" --argjson failed "${failed:-0}" --argjson pct "$pct" \
    '{tps: $tps, rps: $tps, failed: $failed} + $pct'
}

# measure_http SERVICE W: runs wrk for one workload against one HTTP service.
measure_http() {
  local svc=$1 w=$2 res url CPU_PID=''
  url="$(base "$svc" "$w")"
  CPU_PID=$(server_pid "$svc" "$w")
  case $w in
    W8 | W8n | W8e)
      res=$(wrk_run "$svc-$w" "$CONNS" "$THREADS" "$DURATION" "$url$(path "$svc" "$w")" walker)
      ;;
    W3)
      [[ -s $WORK/walk-$svc.txt ]] || return 0
      res=$(BENCH_URLS_FILE="$WORK/walk-$svc.txt" wrk_run "$svc-$w" "$CONNS" "$THREADS" "$DURATION" "$url" "$BENCH_LUA_DIR/replay.lua")
      ;;
    W7)
      res=$(BENCH_READ_PATH="$(path "$svc" W6)" BENCH_PATCH_FMT="$(path "$svc" patch)" BENCH_WRITE_PCT=10 \
        wrk_run "$svc-$w" "$CONNS" "$THREADS" "$DURATION" "$url" "$BENCH_LUA_DIR/mixed.lua")
      ;;
    *) res=$(wrk_run "$svc-$w" "$CONNS" "$THREADS" "$DURATION" "$url$(path "$svc" "$w")") ;;
  esac
  [[ -z $res ]] || jset ".results.$w.$svc" "$res"
}

measure_pg() {
  local w=$1 res
  case $w in
    W7) res=$(pgbench_run "$w" "$(sql_file W6)@9" "$(sql_file W7_write)@1") ;;
    *)
      if [[ ! -s $(sql_file "$w") ]]; then
        warn "$w: no SQL for pgbench (nothing captured, no bench/pgbench/$w.sql)"
        return 0
      fi
      res=$(pgbench_run "$w" "$(sql_file "$w")")
      ;;
  esac
  [[ -z $res ]] || jset ".results.$w.postgres" "$res"
  local text src=hand-written
  if [[ $w == W7 ]]; then
    text="$(grep -v '^--' "$(sql_file W6)"; echo '-- 1 in 10:'; grep -v '^--' "$(sql_file W7_write)")"
    [[ -s $WORK/sql/W7_write.sql ]] && src=captured
  else
    text="$(grep -v '^--' "$(sql_file "$w")")"
    [[ -s $WORK/sql/$w.sql ]] && src=captured
  fi
  jsets ".results.$w.postgres_sql" "$text"
  jsets ".results.$w.postgres_sql_source" "$src"
}

# latency SERVICE: one connection, first page of orders vs a page deep in the walk.
latency() {
  local svc=$1 first deep deep_path
  [[ -s $WORK/walk-$svc.txt ]] || return 0
  deep_path=$(sed -n "$(((W3_PAGES + 1) / 2))p" "$WORK/walk-$svc.txt")
  [[ -n $deep_path ]] || deep_path=$(tail -1 "$WORK/walk-$svc.txt")
  first=$(wrk_run "$svc-first-page" 1 1 "$LAT_DURATION" "$(base "$svc")$(path "$svc" first)")
  deep=$(wrk_run "$svc-deep-page" 1 1 "$LAT_DURATION" "$(base "$svc")$deep_path")
  [[ -n $first && -n $deep ]] || return 0
  jset ".walk.$svc.first" "$first"
  jset ".walk.$svc.deep" "$deep"
  jsets ".walk.$svc.deep_path" "$deep_path"
}

# single_client: W6 (exact count) and W6e (estimated) with one client, back to back.
single_client() {
  local a b
  [[ -n $EST_PID ]] || return 0
  a=$(CPU_PID=$GW_PID wrk_run odatagw-W6-c1 1 1 "$SINGLE_DURATION" "$GW_BASE$(path odatagw W6)")
  b=$(CPU_PID=$EST_PID wrk_run odatagw-W6e-c1 1 1 "$SINGLE_DURATION" "$EST_BASE$(path odatagw W6e)")
  [[ -n $a && -n $b ]] || return 0
  jset .single "$(jq -n --argjson a "$a" --argjson b "$b" '{W6: $a, W6e: $b}')"
}

# estimates: the estimating gateway's @odata.count against count(*) (after the
# VACUUM ANALYZE of ensure_database), for the unfiltered set, status eq 'Open'
# (both above count_exact_below: estimates) and one customer's orders (below: exact).
estimates() {
  [[ -n $EST_PID ]] || return 0
  local out='[]' label filter sqlw est exact
  while IFS='|' read -r label filter sqlw; do
    est=$(curl -s --max-time 120 -H 'Accept: application/json' \
      "$EST_BASE/odata/orders?\$select=order_id&\$top=1&\$count=true${filter:+&\$filter=$filter}" | jq '."@odata.count" // null' 2>/dev/null || echo null)
    exact=$(psqlq -c "select count(*) from erp.orders $sqlw" 2>/dev/null || echo null)
    out=$(jq -c --arg l "$label" --argjson e "${est:-null}" --argjson x "${exact:-null}" \
      '. + [{query: $l, estimate: $e, exact: $x,
             error_pct: (if ($e | type) == "number" and ($x | type) == "number" and $x > 0
                         then ((($e - $x) / $x * 1000 | round) / 10) else null end)}]' <<<"$out")
  done <<'EOF2'
orders (unfiltered)||
orders?$filter=status eq 'Open'|status%20eq%20%27Open%27|where status = 'Open'
orders?$filter=customer_id eq 'C0012345'|customer_id%20eq%20%27C0012345%27|where customer_id = 'C0012345'
EOF2
  jset .estimates "$out"
}

# rss_run: W1 with RSS_CONNS clients, then the gateway's peak RSS (VmHWM).
# Twice: (1) on the measuring gateway with its default guard, which runs 16
# queries and queues 32 for at most 2 s, so most of 64 clients get 503 "at
# capacity" and memory is barely stressed; (2) on a fresh gateway whose queue
# admits every client (query_queue = RSS_CONNS, 60 s wait): its VmHWM is the
# number the goal is judged on. (2) needs the generated config (BENCH_GW_CONFIG unset).
rss_run() {
  local before res hwm rss
  before=$(awk '/^VmHWM/ {print $2}' "/proc/$GW_PID/status")
  res=$(wrk_run "odatagw-W1-c$RSS_CONNS-default-guard" "$RSS_CONNS" "$THREADS" "$DURATION" "$GW_BASE$(path odatagw W1)")
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$GW_PID/status")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
  jset .rss_default_guard "$(jq -n --argjson c "$RSS_CONNS" --argjson b "${before:-0}" --argjson h "${hwm:-0}" --argjson r "${rss:-0}" \
    --argjson w "${res:-null}" '{connections: $c, vmhwm_before_kb: $b, vmhwm_kb: $h, vmrss_after_kb: $r, wrk: $w}')"
  [[ -z $GW_CONFIG ]] || return 0
  stop_gw
  GW_EXTRA_GUARD="  query_queue: $RSS_CONNS"$'\n'"  query_queue_wait: 60s"$'\n' start_gw "$GW_LOG_LEVEL" rss || return 0
  before=$(awk '/^VmHWM/ {print $2}' "/proc/$GW_PID/status")
  res=$(wrk_run "odatagw-W1-c$RSS_CONNS" "$RSS_CONNS" "$THREADS" "$DURATION" "$GW_BASE$(path odatagw W1)")
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$GW_PID/status")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$GW_PID/status")
  jset .rss "$(jq -n --argjson c "$RSS_CONNS" --argjson b "${before:-0}" --argjson h "${hwm:-0}" --argjson r "${rss:-0}" \
    --argjson w "${res:-null}" '{connections: $c, vmhwm_before_kb: $b, vmhwm_kb: $h, vmrss_after_kb: $r, wrk: $w,
      guard: "query_queue \($c), query_queue_wait 60s (all clients admitted)"}')"
}

# ---- main --------------------------------------------------------------------------------
main() {
  mkdir -p "$WORK/raw" "$WORK/sql" "$OUT"
  rm -f "$WORK"/sql/*.sql "$WORK"/walk-*.txt
  RESULT="$WORK/result.json"
  NOTES_FILE="$WORK/notes.txt"
  : >"$NOTES_FILE"
  trap stop_all EXIT
  trap 'exit 130' INT TERM
  check_tools
  echo '{}' >"$RESULT"
  jsets .started_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  jset .settings "$(jq -n --arg d "$DURATION" --arg w "$WARMUP" --argjson c "$CONNS" --argjson t "$THREADS" \
    --argjson rc "$RSS_CONNS" --arg ld "$LAT_DURATION" --arg m "$PGBENCH_MODE" --arg lvl "$GW_LOG_LEVEL" \
    --arg args "$GW_ARGS" --arg gwconf "${GW_CONFIG:-generated: guard.rate_per_second -1}" --arg pool "$CAP_POOL" --arg targets "$TARGETS" --arg wl "$WORKLOADS" --argjson scale "$SCALE" \
    '{duration: $d, warmup: $w, connections: $c, threads: $t, rss_connections: $rc, latency_duration: $ld,
      pgbench_mode: $m, cap_pool: $pool, gateway_log_level: $lvl, gateway_args: $args, gateway_config: $gwconf, targets: ($targets | ltrimstr(" ") | rtrimstr(" ")),
      workloads: $wl, scale: $scale}')"
  ensure_database
  record_machine
  local w
  for w in W1 W2 W3 W4 W5 W6 W6e W7 W8 W8n W8e W9 W10; do jsets ".desc.$w" "${DESC[$w]}"; done

  # services
  local have_gw=0 have_cap=0 have_pg=0
  GW_WRITES=0
  want postgres && have_pg=1
  if want cap && start_cap; then have_cap=1; fi
  if want odatagw; then
    build_walker
    if ! build_gw; then
      warn "odatagw build failed (see $WORK/build.log): $(tail -3 "$WORK/build.log" | tr '\n' ' ')"
    elif [[ ! -x $GW_BIN ]]; then
      warn "odatagw binary $GW_BIN not found"
    elif [[ $CAPTURE_SQL == 1 ]] && start_gw debug capture; then
      if has_workload W3; then walk odatagw || true; fi
      has_workload W7 && writes_ok odatagw && GW_WRITES=1
      if has_workload W6e || has_workload W8e; then start_est debug capture-est || true; fi
      capture_all
      stop_gw
      stop_est
      start_gw "$GW_LOG_LEVEL" measure && have_gw=1
      start_est "$GW_LOG_LEVEL" estimated || true
    elif start_gw "$GW_LOG_LEVEL" measure; then
      start_est "$GW_LOG_LEVEL" estimated || true
      have_gw=1
      if has_workload W3; then walk odatagw || true; fi
      has_workload W7 && writes_ok odatagw && GW_WRITES=1
    fi
  fi
  if ((have_cap)); then
    if has_workload W3; then walk cap || true; fi
    if has_workload W7 && ! writes_ok cap; then warn "CAP: PATCH of an order failed; W7 skipped for CAP"; fi
  fi
  jset .available "$(jq -n --argjson g "$have_gw" --argjson c "$have_cap" --argjson p "$have_pg" --argjson wr "$GW_WRITES" \
    '{odatagw: ($g == 1), cap: ($c == 1), postgres: ($p == 1), odatagw_writes: ($wr == 1)}')"

  # probes: one GET per workload and service; a failing probe skips that measurement
  declare -A OK=()
  local svc
  for w in W1 W2 W4 W5 W6 W10; do
    has_workload "$w" || continue
    ((have_gw)) && probe odatagw "$w" && OK[odatagw-$w]=1
    ((have_cap)) && probe cap "$w" && OK[cap-$w]=1
  done
  # gateway only: the CAP peer's model has no associations to expand
  if ((have_gw)) && has_workload W9; then probe odatagw W9 && OK[odatagw-W9]=1; fi
  # gateway only: CAP has no estimated count, and a 40-page walk of CAP pages
  # (~1 s each under load) would not finish one walk per measurement
  if ((have_gw)) && has_workload W6e && [[ -n $EST_PID ]]; then probe odatagw W6e && OK[odatagw-W6e]=1; fi
  if ((have_gw)) && has_workload W8e && [[ -n $EST_PID && -x $WALKER ]]; then probe odatagw W8e && OK[odatagw-W8e]=1; fi
  for w in W8 W8n; do
    if ((have_gw)) && has_workload $w && [[ -x $WALKER ]]; then probe odatagw $w && OK[odatagw-$w]=1; fi
  done
  ((have_gw)) && estimates
  [[ -s $WORK/walk-odatagw.txt ]] && OK[odatagw-W3]=1
  [[ -s $WORK/walk-cap.txt ]] && OK[cap-W3]=1
  if has_workload W7; then
    if ((have_gw)) && [[ $GW_WRITES == 1 ]] && [[ -n ${OK[odatagw-W6]:-} ]]; then OK[odatagw-W7]=1; fi
    if ((have_cap)) && [[ $(jget '.probe.cap.patch.status // 0') == 2?? ]] && [[ -n ${OK[cap-W6]:-} ]]; then OK[cap-W7]=1; fi
    if ((have_gw)) && [[ $GW_WRITES != 1 ]]; then
      warn "W7 skipped: odatagw does not answer PATCH yet (status $(jget '.probe.odatagw.patch.status // "?"'))"
    fi
  fi

  # the measurements to run, counted first so that each says "n/N"
  local plan=() step=0 m
  for w in $WORKLOADS; do
    [[ -n ${DESC[$w]:-} ]] || die "unknown workload $w"
    # W7 needs gateway writes; without the gateway in BENCH_TARGETS it runs for the others
    if [[ $w == W7 && $GW_WRITES != 1 ]] && want odatagw; then continue; fi
    for svc in odatagw postgres cap; do
      case $svc in
        postgres) ((have_pg)) && plan+=("$svc $w") ;;
        *) [[ -n ${OK[$svc-$w]:-} ]] && plan+=("$svc $w") ;;
      esac
    done
  done
  for m in "${plan[@]}"; do
    step=$((step + 1))
    read -r svc w <<<"$m"
    log "measurement $step/${#plan[@]}: $w on $svc"
    case $svc in
      postgres) measure_pg "$w" ;;
      *) measure_http "$svc" "$w" ;;
    esac
  done
  if has_workload W3; then
    ((have_gw)) && latency odatagw
    ((have_cap)) && latency cap
  fi
  ((have_gw)) && has_workload W6 && has_workload W6e && single_client
  # CAP (and the second gateway) are stopped before the RSS run so that they
  # do not compete for the CPU
  [[ -z $CAP_PID ]] || stop_pid "$CAP_PID"
  stop_est
  ((have_gw)) && [[ -n ${OK[odatagw-W1]:-} ]] && rss_run

  stop_all
  jsets .finished_at "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  jsets .machine.loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
  jset .notes "$(jq -R . "$NOTES_FILE" | jq -s .)"
  jq -f "$BENCH_DIR/lib/summarize.jq" "$RESULT" >"$OUT/latest.json"
  jq -r -f "$BENCH_DIR/lib/markdown.jq" "$OUT/latest.json" >"$OUT/latest.md"
  log "results: $OUT/latest.md and $OUT/latest.json"
  cat "$OUT/latest.md"
}

main "$@"
