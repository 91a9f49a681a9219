-- A shape that ramps up fast, then down at 2 users a second, then ends the test.
local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.05) })
U:task(function(self) self.client:get("/", { name = "loop" }) end)
cicada.shape(function(run_time)
  if run_time < 2 then return 6, 100 end
  if run_time < 4 then return 2, 2 end
  return nil
end)
