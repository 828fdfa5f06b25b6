# markdown.jq: renders bench/results/latest.json as bench/results/latest.md (jq -r).

def num($d): if type == "number" then
    (if $d == 0 then (round | tostring)
     else ((. * pow(10; $d) | round) / pow(10; $d) | tostring) end)
  else "–" end;
# rps with the number of failed requests, when any
def rps($d): if type == "object" then
    (.rps | num($d)) + (if (.errors // 0) > 0 then " (\(.errors) err)" elif (.failed // 0) > 0 then " (\(.failed) err)" else "" end)
  else "–" end;
def verdict: if . == true then "yes" elif . == false then "**no**" else "–" end;
def mb: if type == "number" and . > 0 then (. / 1024 | num(1)) + " MB" else "–" end;

. as $r
| ($r.settings.workloads | split(" ") | map(select(. != ""))) as $ran
| [
  "# odatagw load benchmark: \($r.started_at) – \($r.finished_at)",
  "",
  "Machine: \($r.machine.cpu), \($r.machine.nproc) cores, \($r.machine.ram_mb) MB RAM, \($r.machine.kernel); PostgreSQL \($r.machine.postgres), \($r.machine.pgbench), \($r.machine.wrk), node \($r.machine.node), \($r.machine.go). Load average at start \($r.machine.loadavg_start), at end \($r.machine.loadavg_end) (a shared machine: other work makes the numbers noisy).",
  "",
  "Settings: \($r.settings.connections) clients, \($r.settings.threads) threads (wrk) / pgbench -j \($r.settings.threads) -M \($r.settings.pgbench_mode), \($r.settings.duration) per measurement after a \($r.settings.warmup) warm-up; gateway log level \($r.settings.gateway_log_level)\(if $r.settings.gateway_args != "" then ", args `\($r.settings.gateway_args)`" else "" end); CAP \($r.cap.version // "not run") with pool `\($r.settings.cap_pool)`.",
  "",
  "| Workload | odatagw req/s | p50 ms | p99 ms | PostgreSQL tx/s | p50 ms | CAP req/s | p50 ms | p99 ms | odatagw/PG | odatagw/CAP | Goal | Met |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
  ( $r.rows[] | select(.id as $id | $ran | index($id))
    | "| \(.id) | \(.odatagw | rps(0)) | \(.odatagw.p50_ms | num(2)) | \(.odatagw.p99_ms | num(2)) | \(.postgres | rps(0)) | \(.postgres.p50_ms | num(2)) | \(.cap | rps(1)) | \(.cap.p50_ms | num(1)) | \(.cap.p99_ms | num(1)) | \(.ratio_pg | num(3)) | \(.ratio_cap | num(1)) | \(.goal // "–") | \(.goal_met | verdict) |"
  ),
  "",
  "Server CPU per request (ms, user + system of the server process, from /proc): " +
    ([ $r.rows[] | select(.id as $id | $ran | index($id)) | select(.odatagw.cpu_ms_per_req != null or .cap.cpu_ms_per_req != null)
       | "\(.id) odatagw \(.odatagw.cpu_ms_per_req | num(3)), CAP \(.cap.cpu_ms_per_req | num(2))" ] | if length == 0 then "not measured" else join("; ") end) + ".",
  "",
  "Workloads:",
  ( $r.rows[] | select(.id as $id | $ran | index($id)) | "- \(.id): \(.desc)" ),
  "",
  "## Paging: first page vs a page deep in the walk (1 client, p50 / p99 ms)",
  "",
  "| Service | nextLinks walked | first page p50 | p99 | deep page p50 | p99 | deep/first (p50) |",
  "|---|---:|---:|---:|---:|---:|---:|",
  ( ["odatagw", "cap"][] as $s | ($r.walk[$s] // {}) as $w
    | select($w.pages != null)
    | "| \($s) | \($w.pages // "–") | \($w.first.p50_ms | num(2)) | \($w.first.p99_ms | num(2)) | \($w.deep.p50_ms | num(2)) | \($w.deep.p99_ms | num(2)) | \($w.deep_over_first | num(2)) |"
  ),
  "",
  "## Gateway memory",
  "",
  (if $r.rss then
    "W1 with \($r.rss.connections) clients on a fresh gateway whose queue admits them all (\($r.rss.guard)): \($r.rss.wrk | rps(0)) req/s, p50 \($r.rss.wrk.p50_ms | num(1)) ms, p99 \($r.rss.wrk.p99_ms | num(1)) ms. Peak RSS (VmHWM) \($r.rss.vmhwm_kb | mb) (after start-up \($r.rss.vmhwm_before_kb | mb)); RSS at the end \($r.rss.vmrss_after_kb | mb). Goal < 150 MB: \($r.goals.rss_under_150mb | verdict)."
   else "Not measured with all clients admitted." end),
  "",
  (if $r.rss_default_guard then
    "With the default guard (16 queries, 32 queued for at most 2 s) on the gateway that ran every workload: \($r.rss_default_guard.wrk | rps(0)) req/s (the failures are 503 \"at capacity\"), p50 \($r.rss_default_guard.wrk.p50_ms | num(1)) ms; VmHWM over the whole run \($r.rss_default_guard.vmhwm_kb | mb)."
   else empty end),
  "",
  "## SQL run by pgbench",
  "",
  ( $r.rows[] | select(.postgres != null)
    | $r.results[.id] as $res
    | "\(.id) (\($res.postgres_sql_source)):", "", "```sql", $res.postgres_sql, "```", ""
  ),
  "## Notes",
  "",
  (if ($r.notes | length) == 0 then "None." else ($r.notes[] | "- \(.)") end)
] | join("\n")
