-- Two users start a 1.5 s request at once; after a second the shape wants none of them: they
-- are stopped in the middle of their task (--stop-timeout decides whether it may finish).
local cicada = require "cicada"
local U = cicada.user("U")
function U:on_stop() self.client:get("/json", { name = "on_stop" }) end
U:task(function(self) self.client:get("/delay/1500", { name = "slow" }) end)
cicada.shape(function(run_time)
  if run_time < 1 then return 2, 100 end
  if run_time < 3 then return 0, 100 end
  return nil
end)
