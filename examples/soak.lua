-- Soak: a moderate, steady load for hours, to surface what only time shows (memory that
-- grows, connections that leak, a cache that fills, logs that fill a disk). Each user runs a
-- task every 2 seconds at most (constant_pacing), so the request rate stays steady even when
-- the service slows down; thresholds stop the test early if latency or errors stay bad.
--   cicada run examples/soak.lua -H http://127.0.0.1:8080 --csv out/soak --html out/soak.html
-- TIME_SCALE shrinks every duration for a quick try (TIME_SCALE=0.0002: about 3 s).
local cicada = require "cicada"

local scale = tonumber(os.getenv("TIME_SCALE")) or 1

local Client = cicada.user("Client", { wait_time = cicada.constant_pacing(2) })

function Client:on_start()
  local res = self.client:post("/login", { json = { user = "soak" .. self.user_id, password = "demo" } })
  self.token = res.ok and res:json().token or nil
end

Client:task(5, function(self)
  self.client:get("/items", { headers = { Authorization = "Bearer " .. tostring(self.token) } })
end)
Client:task(1, function(self) self.client:get("/health") end)

cicada.stages {
  { duration = 300 * scale, users = 50 },     -- ramp up over 5 minutes (50 users / 300 s)
  { duration = 4 * 3600 * scale, users = 50 }, -- hold for 4 hours
  { duration = 300 * scale, users = 0 },      -- ramp down over 5 minutes
}

cicada.thresholds {
  p99 = { "<500ms", abort_on_fail = true, delay = "10m" },
  error_rate = { "<0.1%", abort_on_fail = true, delay = "10m" },
}
