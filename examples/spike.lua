-- Spike: a steady 10 users, a sudden jump to 100 users (started at 50 a second) held for a
-- minute, then back to 10 (stopped at 50 a second): does the service absorb the burst, and
-- does it recover once the burst is over?
--   cicada run examples/spike.lua -H http://127.0.0.1:8080 --html out/spike.html
-- TIME_SCALE shrinks every duration for a quick try (TIME_SCALE=0.05: 1.5 s, 3 s, 1.5 s).
local cicada = require "cicada"

local scale = tonumber(os.getenv("TIME_SCALE")) or 1

local Shopper = cicada.user("Shopper", { wait_time = cicada.between(0.2, 0.5) })

Shopper:task(4, function(self) self.client:get("/items") end)
Shopper:task(1, function(self)
  self.client:post("/login", { json = { user = "shopper" .. self.user_id, password = "demo" } })
end)

cicada.stages {
  { duration = 30 * scale, users = 10, spawn_rate = 10 },   -- the usual traffic
  { duration = 60 * scale, users = 100, spawn_rate = 50 },  -- the spike
  { duration = 30 * scale, users = 10, spawn_rate = 50 },   -- and after it
}

-- A spike may be slow, but it must not break things.
cicada.thresholds { error_rate = "<1%" }
