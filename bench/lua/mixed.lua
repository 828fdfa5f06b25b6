-- mixed.lua: W7, mixed reads and writes.
--
-- Env: BENCH_READ_PATH   path (+query) of the read request (the W6 list view)
--      BENCH_PATCH_FMT   path format of the written entity with one %d for
--                        the order key, e.g. "/odata/orders(%d)"
--      BENCH_WRITE_PCT   percentage of requests that are writes (default 10)
--      BENCH_KEY_MAX     highest order key (default 1000000)
-- A write is PATCH {"status":S} on a random order, where S is the status the
-- seed already gave that order (erp_seed.sql: statuses[1 + id % 5]), so the
-- data set stays identical between runs while every write still updates a row.

local dir = os.getenv("BENCH_LUA_DIR") or (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
dofile(dir .. "/report.lua")

local read_path = os.getenv("BENCH_READ_PATH") or error("BENCH_READ_PATH is not set")
local patch_fmt = os.getenv("BENCH_PATCH_FMT") or error("BENCH_PATCH_FMT is not set")
local write_pct = tonumber(os.getenv("BENCH_WRITE_PCT") or "10")
local key_max = tonumber(os.getenv("BENCH_KEY_MAX") or "1000000")
local statuses = { "Draft", "Open", "Shipped", "Invoiced", "Cancelled" }

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  math.randomseed(1234 + (tid or 0) * 7919)
  patch_headers = {}
  for k, v in pairs(wrk.headers) do patch_headers[k] = v end
  patch_headers["Content-Type"] = "application/json"
end

function request()
  if math.random(100) <= write_pct then
    local id = math.random(key_max)
    local body = string.format('{"status":"%s"}', statuses[1 + id % 5])
    return wrk.format("PATCH", string.format(patch_fmt, id), patch_headers, body)
  end
  return wrk.format("GET", read_path)
end
