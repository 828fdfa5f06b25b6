# shellcheck shell=bash
# bench/lib/common.sh: helpers sourced by bench/run.sh (logging, processes,
# ports, durations, JSON result accumulation). Not meant to be run alone.

log() { progress_clear; printf '%s [bench] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# warn also appends to $NOTES_FILE (when set): the notes of the result, kept in
# a file because many callers run in command substitutions (subshells).
warn() {
  progress_clear
  printf '%s [bench] WARNING: %s\n' "$(date +%H:%M:%S)" "$*" >&2
  [[ -z ${NOTES_FILE:-} ]] || printf '%s\n' "$*" >>"$NOTES_FILE"
}
die() { progress_clear; printf '%s [bench] FATAL: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# ---- progress of long steps -------------------------------------------------
# BENCH_PROGRESS: auto [default: live when stderr is a terminal, else plain],
# live (one line on stderr rewritten in place), plain (a log line at most every
# BENCH_PROGRESS_EVERY seconds [10]), off. Progress never goes to stdout.
PROGRESS_MODE=${BENCH_PROGRESS:-auto}
if [[ $PROGRESS_MODE == auto ]]; then
  if [[ -t 2 ]]; then PROGRESS_MODE=live; else PROGRESS_MODE=plain; fi
fi
PROGRESS_SHOWN=0 PROGRESS_LAST=0
# progress TEXT: the state of the step under way.
progress() {
  local msg="$*"
  case $PROGRESS_MODE in
    live)
      printf '\r%s [bench] %s\033[K' "$(date +%H:%M:%S)" "${msg:0:$((${COLUMNS:-100} - 20))}" >&2
      PROGRESS_SHOWN=1
      ;;
    plain)
      if ((SECONDS - PROGRESS_LAST >= ${BENCH_PROGRESS_EVERY:-10})); then
        PROGRESS_LAST=$SECONDS
        printf '%s [bench] %s\n' "$(date +%H:%M:%S)" "$msg" >&2
      fi
      ;;
  esac
}
# progress_clear erases a live progress line (before any other output).
progress_clear() {
  if ((PROGRESS_SHOWN)); then
    printf '\r\033[K' >&2
    PROGRESS_SHOWN=0
  fi
}

# psql_file_progress DSN FILE LOG [psql args...]: runs the SQL file with psql
# (queries echoed to LOG) and shows which of its long statements (CREATE TABLE,
# INSERT INTO, CREATE INDEX, ANALYZE at the start of a line) runs, n/N, with the
# size of the table it fills and the time so far. Fails as psql does.
psql_file_progress() {
  local dsn=$1 file=$2 logfile=$3 pat='^(CREATE TABLE|INSERT INTO|CREATE INDEX|ANALYZE)' total n stmt tbl size sp start pid
  shift 3
  total=$(grep -cE "$pat" "$file" || true)
  # the file's search_path (SET search_path = ...), to find the tables it fills
  sp=$(sed -n 's/^SET search_path *= *\([^;]*\);.*/\1/p' "$file" | tail -1)
  start=$SECONDS
  PROGRESS_LAST=$SECONDS # plain: the first line after BENCH_PROGRESS_EVERY
  psql "$dsn" -X -q -e "$@" -f "$file" >"$logfile" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    n=$(grep -cE "$pat" "$logfile" || true)
    stmt=$(grep -E "$pat" "$logfile" | tail -1 | sed 's/[[:space:]]*(.*$//; s/;$//')
    size=""
    if [[ $stmt == "INSERT INTO "* ]]; then
      tbl=${stmt#INSERT INTO }
      tbl=${tbl%% *}
      size=$(psql "$dsn" -X -Atq -c "SET search_path = ${sp:-public}" \
        -c "SELECT pg_size_pretty(pg_total_relation_size(to_regclass('${tbl//\'/}')))" 2>/dev/null || true)
      [[ -z $size ]] || size=", $size"
    fi
    progress "${file##*/}: step $n/$total ${stmt:-starting}$size ($((SECONDS - start))s)"
    sleep 1
  done
  progress_clear
  wait "$pid"
}

# dur_secs 15s|2m|15 -> whole seconds (at least 1), for pgbench -T.
dur_secs() {
  local d=$1 n
  case $d in
    *ms) n=1 ;;
    *s) n=${d%s} ;;
    *m) n=$((${d%m} * 60)) ;;
    *h) n=$((${d%h} * 3600)) ;;
    *) n=$d ;;
  esac
  [[ $n =~ ^[0-9]+$ ]] || die "bad duration: $d"
  ((n >= 1)) || n=1
  echo "$n"
}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port [START]: the first free port at or after START (default: random 20000-39999).
free_port() {
  local p=${1:-$((20000 + RANDOM % 20000))} end
  end=$((p + 500))
  while ((p < end)); do
    if port_free "$p"; then
      echo "$p"
      return 0
    fi
    p=$((p + 1))
  done
  return 1
}

# Processes started by this script, each the leader of its own session
# (started with setsid), so that stopping it also stops its children
# (npx -> node). Only these are ever signalled.
STARTED=()

# start_bg DIR LOGFILE CMD...: runs CMD in DIR in a new session, output to
# LOGFILE; sets BG_PID (== its process group id). Must not run in a subshell,
# or the pid would not be remembered for the cleanup.
start_bg() {
  local dir=$1 logfile=$2
  shift 2
  (cd "$dir" && exec setsid "$@") >"$logfile" 2>&1 </dev/null &
  BG_PID=$!
  STARTED+=("$BG_PID")
}

# stop_pid PID: TERM the process group PID (fallback: the process), then KILL after 5 s.
stop_pid() {
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
}

stop_all() {
  local pid
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
  STARTED=()
}

# wait_http URL SECONDS PID: waits until URL answers 200 while PID lives.
wait_http() {
  local url=$1 secs=$2 pid=$3 i code
  for ((i = 0; i < secs * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 1
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url" || true)
    [[ $code == 200 ]] && return 0
    sleep 0.25
  done
  return 1
}

# ---- JSON result document --------------------------------------------------
# RESULT is a JSON file; jset PATH JSON sets a value, jsets PATH STRING a string.
jset() {
  local tmp="$RESULT.tmp"
  jq --argjson v "$2" "$1 = \$v" "$RESULT" >"$tmp" && mv "$tmp" "$RESULT"
}
jsets() {
  local tmp="$RESULT.tmp"
  jq --arg v "$2" "$1 = \$v" "$RESULT" >"$tmp" && mv "$tmp" "$RESULT"
}
jget() { jq -r "$1" "$RESULT"; }
