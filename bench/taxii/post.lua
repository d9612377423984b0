-- post.lua — wrk script of the TAXII benchmark (bench/taxii/run.sh): POSTs
-- the same envelope ($TIX_BENCH_BODY, a file) again and again with a Bearer
-- key ($TIX_BENCH_KEY). The first request stores its objects; every later one
-- finds each version already stored (the re-send path: parse, validate, look
-- up, link).
local f = assert(io.open(os.getenv("TIX_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Content-Type"] = "application/taxii+json;version=2.1"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TIX_BENCH_KEY") or "")

-- Same line as get.lua: requests/s, p50 ms, p99 ms, socket errors, HTTP
-- errors (status >= 400), requests.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT %.2f %.3f %.3f %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.timeout, e.status, summary.requests))
end
