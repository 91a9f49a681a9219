-- The open model: iterations start at a rate, whatever the response times, as requests from
-- many independent clients would (docs/load-models.md). The rate ramps from 0 to 200 a second
-- over a minute, holds for five, then peaks at 400 for a minute; a pool of users serves the
-- iterations, growing to 200 users if responses get slow. Response times count from when each
-- iteration was due, so a slow server shows up in them instead of slowing the load down.
--   cicada run examples/arrival_rate.lua -H http://127.0.0.1:8080 --html out/rate.html
-- TIME_SCALE shrinks every duration for a quick try (TIME_SCALE=0.02: about 8.4 s).
local cicada = require "cicada"

local minute = 60 * (tonumber(os.getenv("TIME_SCALE")) or 1)

cicada.options { users = 20, max_users = 200 }

local Buyer = cicada.user("Buyer", {})

Buyer:task(3, function(self) self.client:get("/items") end)
Buyer:task(1, function(self)
  self.client:post("/login", { json = { user = "buyer" .. self.user_id, password = "demo" } })
end)

cicada.stages {
  { duration = minute, rate = 200 },       -- ramp from 0 to 200 iterations a second
  { duration = 5 * minute, rate = 200 },   -- hold
  { duration = 0, rate = 400 },            -- jump
  { duration = minute, rate = 400 },       -- hold the peak
}

-- Iterations that found no free user within --max-queue-time were dropped: none allowed.
cicada.thresholds { dropped_iterations = "==0", p99 = "<1s" }
