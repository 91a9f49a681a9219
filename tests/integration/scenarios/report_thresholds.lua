-- Thresholds declared in the script: every one holds against the target, except when the
-- command line overrides them.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.005) })
U:task(3, function(self) self.client:get("/json", { name = "fast" }) end)
U:task(1, function(self) self.client:get("/delay/20", { name = "slow" }) end)
cicada.thresholds {
  p95 = "<10s",
  error_rate = "<1%",
  ["GET slow min"] = ">=15ms",  -- /delay/20, give or take a timer tick
  ["fast p99.9"] = { "<5s", ">0ms" },
  requests = ">10",
}
