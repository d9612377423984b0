-- get.lua: conditional GETs (If-None-Match from ETAG) with AUTH; counts the
-- answers by status and prints one RESULT line: req/s, 304s, other answers.
local etag = os.getenv("ETAG")
local auth = os.getenv("AUTH")
wrk.method = "GET"
wrk.headers["If-None-Match"] = etag
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n304 = 0; nother = 0 end
function response(status, headers, body)
	if status == 304 then n304 = n304 + 1 else nother = nother + 1 end
end
function done(summary, latency, requests)
	local a, b = 0, 0
	for _, t in ipairs(threads) do a = a + t:get("n304"); b = b + t:get("nother") end
	io.write(string.format("RESULT %.1f %d %d\n", summary.requests / (summary.duration / 1e6), a, b))
end
