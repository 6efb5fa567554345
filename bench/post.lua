-- wrk script for bench/http_bench.py: POSTs read from a data file, one per line
-- "path<TAB>cookie<TAB>urlencoded body". Every response is counted as ok
-- (the expected status, and ok_text in the body or Location when given) or by
-- its status, and done() prints them on one RESULT line for the bench to check.
--
--   wrk -t T -c C -d D -s post.lua URL -- DATAFILE MODE OK_STATUS OK_TEXT T
-- MODE "rotate": each thread cycles through its share of the lines (reporters).
-- MODE "once": every line is sent at most once in the whole run (drafts); when
-- the lines run out, a request to /bench-pool-exhausted is sent and counted.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local datafile, nthreads = args[1], tonumber(args[5])
  mode, ok_status, ok_text = args[2], tonumber(args[3]), args[4] or ""
  local all = {}
  for line in io.lines(datafile) do
    local path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
    if cookie ~= "" then headers["Cookie"] = cookie end
    table.insert(all, wrk.format("POST", path, headers, body))
  end
  -- Each thread takes every nthreads-th line, so no line is in two threads;
  -- in rotate mode, with fewer lines than threads, every thread takes them all.
  mine = {}
  for i, request in ipairs(all) do
    if (i - 1) % nthreads == tid or (mode == "rotate" and #all < nthreads) then table.insert(mine, request) end
  end
  assert(#mine > 0, "no request lines for thread " .. tid)
  sent, counts = 0, {}
end

function request()
  sent = sent + 1
  if mode == "rotate" then
    return mine[(sent - 1) % #mine + 1]
  elseif sent <= #mine then
    return mine[sent]
  end
  counts.exhausted = (counts.exhausted or 0) + 1
  return wrk.format("GET", "/bench-pool-exhausted")
end

function response(status, headers, body)
  local ok = status == ok_status
  if ok and ok_text ~= "" then
    local location = headers["Location"] or headers["location"] or ""
    ok = (body and body:find(ok_text, 1, true)) or location:find(ok_text, 1, true)
  end
  local key = ok and "ok" or ("status_" .. status)
  counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local answered = 0
    for key, n in pairs(thread:get("counts")) do
      total[key] = (total[key] or 0) + n
      answered = answered + n
    end
    if answered == 0 then total.silent_threads = (total.silent_threads or 0) + 1 end
  end
  local e = summary.errors
  local out = string.format("RESULT duration_us=%d requests=%d connect=%d read=%d write=%d timeout=%d status_errors=%d p50_ms=%.1f p99_ms=%.1f",
    summary.duration, summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000)
  for key, n in pairs(total) do out = out .. " " .. key .. "=" .. n end
  print(out)
end
