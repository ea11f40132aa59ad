-- wrk script: send the headers named in the environment (BENCH_AUTH, BENCH_IF_NONE_MATCH); with
-- BENCH_UNIQUE_QUERY set, every request gets a query string of its own (defeating page caches).
local auth = os.getenv("BENCH_AUTH")
local etag = os.getenv("BENCH_IF_NONE_MATCH")
local unique = os.getenv("BENCH_UNIQUE_QUERY")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if etag and etag ~= "" then wrk.headers["If-None-Match"] = etag end

if unique and unique ~= "" then
  local counter = 0
  request = function()
    counter = counter + 1
    return wrk.format(nil, wrk.path .. "&request=" .. counter)
  end
end

done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %.3f %.3f %.3f %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, summary.errors.status, summary.errors.timeout))
end
