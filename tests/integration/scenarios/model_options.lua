local cicada = require "cicada"
cicada.options{ users = 3, spawn_rate = 1000, iterations = 30 }
-- Paced, so the iterations outlast the ramp and the log shows every user spawned.
local U = cicada.user("U", { wait_time = cicada.constant(0.05) })
U:task(function(self) self.client:get("/") end)
