-- A mix for the report tests: a fast entry whose name needs CSV quoting, a slow one (20 ms on
-- the target), one that always fails, and a task that raises every 5th time it runs.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.005) })
local broken_runs = 0
U:task(3, function(self) self.client:get("/json", { name = "/items, \"fast\"" }) end)
U:task(1, function(self) self.client:get("/delay/20", { name = "slow" }) end)
U:task(1, function(self)
  self.client:get("/status/503", { name = "broken" })
  broken_runs = broken_runs + 1
  if broken_runs % 5 == 0 then error("deliberate, with a comma") end
end)
