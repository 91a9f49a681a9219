-- A shape that returns nonsense after a second.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.05) })
U:task(function(self) self.client:get("/", { name = "loop" }) end)
cicada.shape(function(run_time)
  if run_time < 1 then return 2, 10 end
  return "many", 10
end)
