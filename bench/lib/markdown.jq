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
  "## Counts",
  "",
  (if $r.single then
    "List view with one client, back to back: W6 (exact count) \($r.single.W6 | rps(1)) req/s (p50 \($r.single.W6.p50_ms | num(2)) ms), W6e (estimated) \($r.single.W6e | rps(0)) req/s (p50 \($r.single.W6e.p50_ms | num(2)) ms): **\($r.ratios.W6e_over_W6_1_client | num(1))x** (goal >= 10x: \($r.goals.W6e_10x | verdict)); with \($r.settings.connections) clients \($r.ratios.W6e_over_W6_8_clients | num(1))x."
   else "W6/W6e with one client: not measured." end),
  "",
  (if $r.results.W8.odatagw and $r.results.W8n.odatagw then
    "Walk of \($r.results.W8.odatagw.pages_per_walk) pages (\($r.settings.connections) clients): with `$count=true` mean \($r.results.W8.odatagw.mean_ms | num(1)) ms per walk (p50 \($r.results.W8.odatagw.p50_ms | num(1)), p99 \($r.results.W8.odatagw.p99_ms | num(1))), without \($r.results.W8n.odatagw.mean_ms | num(1)) ms (p50 \($r.results.W8n.odatagw.p50_ms | num(1)), p99 \($r.results.W8n.odatagw.p99_ms | num(1))): **\($r.ratios.W8_over_W8n_walk_time | num(3))x** (goal <= 1.25x); PostgreSQL's own ratio for the same statements \($r.ratios.W8_over_W8n_postgres | num(3))x; with `count: estimated` (W8e) \($r.ratios.W8e_over_W8n_walk_time | num(3))x. @odata.count on every page and the same across each walk: \($r.ratios.W8_count_constant_on_every_page | verdict). Verdict: \($r.goals.W8_walk_count | verdict)."
   else "W8: not measured." end),
  "",
  "Estimates (gateway with `count: estimated`, after VACUUM ANALYZE) against count(*):",
  "",
  "| Query | @odata.count | count(*) | error | within 10% |",
  "|---|---:|---:|---:|---|",
  ( ($r.estimates // [])[] | "| `\(.query)` | \(.estimate // "–") | \(.exact // "–") | \(.error_pct | num(1))% | \(.within_10pct | verdict) |" ),
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
    "W1 with \($r.rss.connections) clients on a fresh gateway whose queue admits them all (\($r.rss.guard)): \($r.rss.wrk | rps(0)) req/s, p50 \($r.rss.wrk.p50_ms | num(1)) ms, p99 \($r.rss.wrk.p99_ms | num(1)) ms. Peak RSS (VmHWM) \($r.rss.vmhwm_kb | mb) (after start-up \($r.rss.vmhwm_before_kb | mb)); RSS at the end \($r.rss.vmrss_after_kb | mb). Goal < 50 MB: \($r.goals.rss_under_50mb | verdict)."
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
    | ($res.postgres_sql | split("\n")) as $lines
    | (if ($lines | length) > 6
       then ($lines[0:3] + ["-- … \($lines | length) statements in all (the whole walk is one pgbench transaction); the last:"] + $lines[-1:]) | join("\n")
       else $res.postgres_sql end) as $shown
    | "\(.id) (\($res.postgres_sql_source)):", "", "```sql", $shown, "```", ""
  ),
  "## Notes",
  "",
  (if ($r.notes | length) == 0 then "None." else ($r.notes[] | "- \(.)") end)
] | join("\n")
