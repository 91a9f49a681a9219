-- scripts/bench, comparison 2, wrk side: the same work as tests/bench/items.lua.
--   request():  builds "/items/" .. (counter % 100 + 1) with wrk.format, once per request
--   response(): checks the status; wrk then parses headers and body for every response
--   done():     prints "status_mismatches: N" (summed over wrk's threads) for scripts/bench
-- Usage: wrk -t1 -c50 -d5s -s tests/bench/items_wrk.lua http://127.0.0.1:PORT

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

-- Globals of each thread's Lua state (thread:get reads them in done()).
counter = 0
mismatches = 0

function request()
  counter = counter + 1
  return wrk.format("GET", "/items/" .. (counter % 100 + 1))
end

function response(status, headers, body)
  if status ~= 200 then
    mismatches = mismatches + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + (thread:get("mismatches") or 0)
  end
  io.write(string.format("status_mismatches: %d\n", total))
end
