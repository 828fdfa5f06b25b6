# summarize.jq: adds ratios and goal verdicts to the raw result of run.sh.
# Input: $WORK/result.json. Output: bench/results/latest.json (input + .rows + .goals).
#
# Ratios compare throughput (requests per second; for PostgreSQL, pgbench
# transactions per second, one transaction = the SQL of one request; W8: one
# walk = one transaction of all its statements). PostgreSQL runs with
# prepared statements (pgbench -M prepared) unless the settings say otherwise.
# A goal is true/false when every number it needs was measured (with at most
# 1% failed requests), else null. Goals: issue 13 (W1, W2, W6e, W8, RSS,
# estimates) and issue 4 (W3).

def ratio($a; $b): if ($a | type) == "number" and ($b | type) == "number" and $b > 0 then $a / $b else null end;
def r2: if type == "number" then (. * 100 | round) / 100 else . end;
def r3: if type == "number" then (. * 1000 | round) / 1000 else . end;
# a measurement with more than 1% failed requests does not count for a goal
def ok: type == "object" and ((.errors // .failed // 0) <= 0.01 * (.requests // 1e18));
def all_of($xs): if ($xs | map(. == null) | any) then null else ($xs | all) end;
def cmp($x; f): if $x == null then null else ($x | f) end;

. as $r
| ($r.walk.odatagw // {}) as $gw_walk
| ($r.walk.cap // {}) as $cap_walk
| def walk_ratio($w): if ($w.deep | ok) and ($w.first | ok) then ratio($w.deep.p50_ms; $w.first.p50_ms) else null end;
  .walk.odatagw.deep_over_first = (walk_ratio($gw_walk) | r2)
| .walk.cap.deep_over_first = (walk_ratio($cap_walk) | r2)
# W6e vs W6: the issue's goal is one client, back to back (.single); the
# 8-client ratio of the main table is reported beside it
| (if ($r.single.W6 | ok) and ($r.single.W6e | ok) then ratio($r.single.W6e.rps; $r.single.W6.rps) else null end) as $est_1c
| (if ($r.results.W6.odatagw | ok) and ($r.results.W6e.odatagw | ok) then ratio($r.results.W6e.odatagw.rps; $r.results.W6.odatagw.rps) else null end) as $est_8c
# W8: mean time of a whole walk with $count=true over the same walk without
| ($r.results.W8.odatagw // null) as $w8
| ($r.results.W8n.odatagw // null) as $w8n
| (if ($w8 | ok) and ($w8n | ok) then ratio($w8.mean_ms; $w8n.mean_ms) else null end) as $walk_cost
| ($r.results.W8e.odatagw // null) as $w8e
| (if ($w8e | ok) and ($w8n | ok) then ratio($w8e.mean_ms; $w8n.mean_ms) else null end) as $walk_cost_est
# the database's own ratio for the same statements (pgbench transactions of whole walks)
| (if ($r.results.W8.postgres | ok) and ($r.results.W8n.postgres | ok) then ratio($r.results.W8n.postgres.rps; $r.results.W8.postgres.rps) else null end) as $walk_cost_pg
| (if ($w8 | ok) then ($w8.count_varies == false and $w8.count_pages > 0
      and $w8.count_pages == ($w8.pages_per_walk * ($w8.requests - $w8.errors))) else null end) as $w8_count_ok
| .rows = [
    ("W1", "W2", "W3", "W4", "W5", "W6", "W6e", "W7", "W8", "W8n", "W8e", "W9", "W10") as $w
    | ($r.results[$w] // {}) as $res
    | (if ($res.odatagw | ok) and ($res.postgres | ok) then ratio($res.odatagw.rps; $res.postgres.rps) else null end) as $rpg
    | (if ($res.odatagw | ok) and ($res.cap | ok) then ratio($res.odatagw.rps; $res.cap.rps) else null end) as $rcap
    | {
        id: $w,
        desc: $r.desc[$w],
        odatagw: $res.odatagw,
        postgres: $res.postgres,
        cap: $res.cap,
        ratio_pg: ($rpg | r3),
        ratio_cap: ($rcap | r2)
      }
    | if $w == "W1" then
        .goal = "odatagw >= 0.60x PostgreSQL (prepared)"
        | .goal_met = cmp($rpg; . >= 0.60)
      elif $w == "W2" then
        .goal = "odatagw >= 0.30x PostgreSQL (prepared)"
        | .goal_met = cmp($rpg; . >= 0.30)
      elif $w == "W3" then
        .goal = "deep page p50 <= 1.3x first page p50 (1 client)"
        | .goal_met = cmp(walk_ratio($gw_walk); . <= 1.3)
      elif $w == "W6e" then
        .goal = ">= 10x W6 (1 client, back to back)"
        | .goal_met = cmp($est_1c; . >= 10)
      elif $w == "W8" then
        .goal = "walk <= 1.25x W8n (mean walk time); one count per walk"
        | .goal_met = all_of([cmp($walk_cost; . <= 1.25), $w8_count_ok])
      else .goal = null | .goal_met = null end
  ]
| .ratios = {
    W6e_over_W6_1_client: ($est_1c | r2),
    W6e_over_W6_8_clients: ($est_8c | r2),
    W8_over_W8n_walk_time: ($walk_cost | r3),
    W8_over_W8n_postgres: ($walk_cost_pg | r3),
    W8e_over_W8n_walk_time: ($walk_cost_est | r3),
    W8_count_constant_on_every_page: $w8_count_ok
  }
| .estimates = [($r.estimates // [])[] | . + {within_10pct: (if .error_pct == null then null else (.error_pct | fabs) <= 10 end)}]
| .goals = {
    W1: (.rows[0].goal_met),
    W2: (.rows[1].goal_met),
    W3_deep_page: (.rows[2].goal_met),
    W6e_10x: (.rows[6].goal_met),
    W8_walk_count: (.rows[8].goal_met),
    rss_under_50mb: (if ($r.rss.vmhwm_kb | type) == "number" and $r.rss.vmhwm_kb > 0 and ($r.rss.wrk | ok)
                     then $r.rss.vmhwm_kb / 1024 < 50 else null end),
    estimates_within_10pct: (if (.estimates | length) >= 2 then ([.estimates[0:2][] | .within_10pct] | all_of(.)) else null end),
    estimates_below_threshold_exact: (if (.estimates | length) >= 3 then .estimates[2].error_pct == 0 else null end)
  }
