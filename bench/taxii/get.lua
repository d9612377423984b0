-- get.lua — wrk script of the TAXII benchmark (bench/taxii/run.sh): GET with
-- the TAXII Accept header and a Bearer key ($TIX_BENCH_KEY). The same script
-- drives nginx, which ignores the Authorization header.
wrk.method = "GET"
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TIX_BENCH_KEY") or "")

-- One line run.sh reads: requests/s, p50 ms, p99 ms, socket errors, HTTP
-- errors (status >= 400), requests.
done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT %.2f %.3f %.3f %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.timeout, e.status, summary.requests))
end
