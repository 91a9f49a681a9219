-- on_stop takes 3 s, so a test can interrupt the stopping phase itself.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.05) })
function U:on_stop() self.client:get("/delay/3000", { name = "slow on_stop" }) end
U:task(function(self) self.client:get("/") end)
