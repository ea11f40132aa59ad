-- wrk script: send the headers named in the environment (BENCH_AUTH, BENCH_IF_NONE_MATCH). The
-- estate list with a fresh query string per request is bench/read_path.lua's.
local auth = os.getenv("BENCH_AUTH")
local etag = os.getenv("BENCH_IF_NONE_MATCH")
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
if etag and etag ~= "" then wrk.headers["If-None-Match"] = etag end

done = function(summary, latency, requests)
  io.write(string.format("BENCH %d %d %.3f %.3f %.3f %d %d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.mean, summary.errors.status, summary.errors.timeout))
end
