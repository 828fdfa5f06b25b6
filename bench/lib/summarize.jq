# summarize.jq: adds ratios and goal verdicts to the raw result of run.sh.
# Input: $WORK/result.json. Output: bench/results/latest.json (input + .rows + .goals).
#
# Ratios compare throughput (requests per second; for PostgreSQL, pgbench
# transactions per second, one transaction = the SQL of one request).
# A goal is true/false when every number it needs was measured (with at most
# 1% failed requests), else null.

def ratio($a; $b): if ($a | type) == "number" and ($b | type) == "number" and $b > 0 then $a / $b else null end;
def r2: if type == "number" then (. * 100 | round) / 100 else . end;
# a measurement with more than 1% failed requests does not count for a goal
def ok: type == "object" and ((.errors // .failed // 0) <= 0.01 * (.requests // 1e18));
def all_of($xs): if ($xs | map(. == null) | any) then null else ($xs | all) end;

. as $r
| ($r.walk.odatagw // {}) as $gw_walk
| ($r.walk.cap // {}) as $cap_walk
| def walk_ratio($w): if ($w.deep | ok) and ($w.first | ok) then ratio($w.deep.p50_ms; $w.first.p50_ms) else null end;
  .walk.odatagw.deep_over_first = (walk_ratio($gw_walk) | r2)
| .walk.cap.deep_over_first = (walk_ratio($cap_walk) | r2)
| .rows = [
    ("W1", "W2", "W3", "W4", "W5", "W6", "W7") as $w
    | ($r.results[$w] // {}) as $res
    | (if ($res.odatagw | ok) and ($res.postgres | ok) then ratio($res.odatagw.rps; $res.postgres.rps) else null end) as $rpg
    | (if ($res.odatagw | ok) and ($res.cap | ok) then ratio($res.odatagw.rps; $res.cap.rps) else null end) as $rcap
    | {
        id: $w,
        desc: $r.desc[$w],
        odatagw: $res.odatagw,
        postgres: $res.postgres,
        cap: $res.cap,
        ratio_pg: ($rpg | if . == null then null else (. * 1000 | round) / 1000 end),
        ratio_cap: ($rcap | r2)
      }
    | if $w == "W1" then
        .goal = "odatagw >= 0.40x PostgreSQL and >= 20x CAP"
        | .goal_met = all_of([(if $rpg == null then null else $rpg >= 0.40 end), (if $rcap == null then null else $rcap >= 20 end)])
      elif $w == "W2" then
        .goal = "odatagw >= 0.25x PostgreSQL"
        | .goal_met = (if $rpg == null then null else $rpg >= 0.25 end)
      elif $w == "W3" then
        .goal = "deep page p50 <= 1.3x first page p50 (1 client)"
        | .goal_met = (walk_ratio($gw_walk) | if . == null then null else . <= 1.3 end)
      else .goal = null | .goal_met = null end
  ]
| .goals = {
    W1: (.rows[0].goal_met),
    W2: (.rows[1].goal_met),
    W3_deep_page: (.rows[2].goal_met),
    rss_under_150mb: (if ($r.rss.vmhwm_kb | type) == "number" and $r.rss.vmhwm_kb > 0 and ($r.rss.wrk | ok)
                      then $r.rss.vmhwm_kb / 1024 < 150 else null end)
  }
