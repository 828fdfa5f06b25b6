-- report.lua: shared wrk done() hook for every bench workload.
--
-- Prints exactly one machine-readable line to stdout:
--   BENCH_RESULT {"requests":N,"duration_s":S,"rps":R,"rps_all":A,"p50_ms":..,"p90_ms":..,
--                 "p99_ms":..,"mean_ms":..,"max_ms":..,"errors":E,"non2xx":X,"timeouts":T,"bytes":B}
-- "errors" is every failed request (connect/read/write/timeout) plus non2xx
-- (wrk counts HTTP status >= 400 as "status" errors). "rps" counts only the
-- successful responses per second, "rps_all" every completed response.
-- Latency percentiles cover every completed request, failed ones included.
-- run.sh greps this line and notes every measurement with errors.
--
-- Other scripts load it with dofile(); when used alone (wrk -s report.lua URL)
-- it measures a single fixed request (wrk's default request()).

function done(summary, latency, requests)
  local e = summary.errors
  local errs = e.connect + e.read + e.write + e.timeout + e.status
  local secs = summary.duration / 1e6
  local function ms(us) return us / 1000 end
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.2f,"rps_all":%.2f,"p50_ms":%.3f,' ..
    '"p90_ms":%.3f,"p99_ms":%.3f,"mean_ms":%.3f,"max_ms":%.3f,"errors":%d,"non2xx":%d,"timeouts":%d,"bytes":%d}\n',
    summary.requests, secs, (summary.requests - e.status) / secs, summary.requests / secs,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.mean), ms(latency.max), errs, e.status, e.timeout, summary.bytes))
end
