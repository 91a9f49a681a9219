-- Runs until interrupted; on_stop makes one request under its own name.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.01) })
function U:on_stop() self.client:get("/json", { name = "on_stop" }) end
U:task(function(self) self.client:get("/", { name = "loop" }) end)
