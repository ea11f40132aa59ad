-- wrk script of the read-path benchmark (bench/read_path.py): the headers named in the environment
-- (BENCH_AUTH, BENCH_IF_NONE_MATCH) on every request; with BENCH_PATHS naming a file of request
-- paths (one a line, query string included), each request takes the next line, so every request
-- of a run asks something else. Run with one thread: the lines are shared by its connections.
local auth = os.getenv("BENCH_AUTH")
local etag = os.getenv("BENCH_IF_NONE_MATCH")
local paths_file = os.getenv("BENCH_PATHS")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if etag and etag ~= "" then wrk.headers["If-None-Match"] = etag end

local paths = {}
if paths_file and paths_file ~= "" then
  for line in io.lines(paths_file) do
    if line ~= "" then paths[#paths + 1] = line end
  end
end

local sent = 0
if #paths > 0 then
  request = function()
    sent = sent + 1
    return wrk.format(nil, paths[(sent - 1) % #paths + 1])
  end
end

done = function(summary, latency, requests)
  local errors = summary.errors
  -- requests, duration (us), p50, p99, mean (us), non-2xx/3xx answers, timeouts, socket errors,
  -- distinct paths available (0: the URL's own path for every request)
  io.write(string.format("BENCH %d %d %.3f %.3f %.3f %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    errors.status, errors.timeout, errors.connect + errors.read + errors.write, #paths))
end
