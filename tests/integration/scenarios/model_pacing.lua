local cicada = require "cicada"
local Paced = cicada.user("Paced", { wait_time = cicada.constant_pacing(0.25) })
Paced:task(function(self) self.client:get("/", { name = "paced" }) end)
local Steady = cicada.user("Steady", { wait_time = cicada.constant_throughput(8) })
Steady:task(function(self) self.client:get("/", { name = "steady" }) end)
