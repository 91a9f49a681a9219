-- scripts/bench, comparisons 2 and 3 (memory, spawning): many users that each hold a keep-alive
-- connection and make one request a second. Run with -u 10000 -r 10000.
local cicada = require "cicada"

local Idle = cicada.user("Idle", { wait_time = cicada.constant(1) })

Idle:task(function(self)
  self.client:get("/")
end)
