-- replay.lua: W3, replays a list of request paths round-robin.
--
-- Env: BENCH_URLS_FILE  file with one request path (+query) per line, e.g. the
--                       50 consecutive @odata.nextLink values of a deep walk
--                       with scheme and host removed.
-- Each wrk thread starts at a different position in the list so that the
-- connections do not all ask for the same page at once.

local dir = os.getenv("BENCH_LUA_DIR") or (debug.getinfo(1, "S").source:match("^@(.*/)") or "./")
dofile(dir .. "/report.lua")

local file = os.getenv("BENCH_URLS_FILE") or error("BENCH_URLS_FILE is not set")
paths = {}
for line in io.lines(file) do
  if line ~= "" then paths[#paths + 1] = line end
end
if #paths == 0 then error("no paths in " .. file) end

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

function init(args)
  pos = ((tid or 0) * 17) % #paths
end

function request()
  pos = pos % #paths + 1
  return wrk.format("GET", paths[pos])
end
