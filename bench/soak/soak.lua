-- soak.lua — wrk script of the soak (bench/soak/run.sh): a mix of what a
-- node serves all day. Of every 20 requests: 10 GET a page of objects, 7
-- GET a page of the manifest, 2 GET the collection, 1 POSTs an envelope of
-- two new indicators (a write rate that grows the store by ~10^5 objects
-- in ten minutes on a laptop-class machine). Every answer that is not 2xx is counted (wrk
-- itself counts only >= 400) and reported with the latency percentiles.
-- Environment: TIX_SOAK_KEY (API key), TIX_SOAK_COLL (collection id).

local key = os.getenv("TIX_SOAK_KEY") or ""
local coll = "/api1/collections/" .. (os.getenv("TIX_SOAK_COLL") or "") .. "/"
local taxii = "application/taxii+json;version=2.1"
local threads = {}
local counter = 0
local thread_id = 0

function setup(thread)
	thread:set("thread_id", #threads + 1)
	table.insert(threads, thread)
end

function init(args)
	non2xx = 0
	posts = 0
	math.randomseed(os.time() * 1000 + (thread_id or 0))
end

local function uuid4()
	local t = {}
	for i = 1, 32 do t[i] = string.format("%x", math.random(0, 15)) end
	t[13] = "4"
	t[17] = string.format("%x", 8 + math.random(0, 3))
	local h = table.concat(t)
	return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" ..
		h:sub(17, 20) .. "-" .. h:sub(21, 32)
end

local function indicator()
	return string.format('{"type":"indicator","spec_version":"2.1","id":"indicator--%s",' ..
		'"created":"2024-05-01T00:00:00.000Z","modified":"2024-05-01T00:00:00.000Z",' ..
		'"name":"soak","pattern":"[ipv4-addr:value = \'203.0.113.%d\']",' ..
		'"pattern_type":"stix","valid_from":"2024-05-01T00:00:00Z"}',
		uuid4(), math.random(1, 254))
end

local headers = {["Accept"] = taxii, ["Authorization"] = "Bearer " .. key}
local post_headers = {["Accept"] = taxii, ["Authorization"] = "Bearer " .. key,
	["Content-Type"] = taxii}

function request()
	counter = counter + 1
	local k = counter % 20
	if k < 10 then
		return wrk.format("GET", coll .. "objects/?limit=100", headers)
	elseif k < 17 then
		return wrk.format("GET", coll .. "manifest/?limit=100", headers)
	elseif k < 19 then
		return wrk.format("GET", coll, headers)
	end
	posts = posts + 1
	local body = '{"objects":[' .. indicator() .. "," .. indicator() .. "]}"
	return wrk.format("POST", coll .. "objects/", post_headers, body)
end

function response(status, hdrs, body)
	if status < 200 or status > 299 then
		non2xx = non2xx + 1
		if non2xx <= 3 then
			io.stderr:write("soak: HTTP " .. status .. ": " .. (body or ""):sub(1, 200) .. "\n")
		end
	end
end

-- One line for run.sh: requests/s p50_ms p99_ms socket_errors non_2xx
-- requests posts.
function done(summary, latency, requests)
	local n, p = 0, 0
	for _, t in ipairs(threads) do
		n = n + (t:get("non2xx") or 0)
		p = p + (t:get("posts") or 0)
	end
	local e = summary.errors
	io.write(string.format("RESULT %.2f %.3f %.3f %d %d %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.timeout, n, summary.requests, p))
end
