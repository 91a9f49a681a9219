local cicada = require "cicada"
cicada.on("reset_stats", function() print("reset_stats fired") end)
local U = cicada.user("U", { wait_time = cicada.constant(0.05) })
function U:on_start()
  cicada.record{ name = "ramp marker", response_time = 1 }
end
U:task(function(self)
  if not self.raised then
    self.raised = true
    error("first run fails")
  end
  self.client:get("/", { name = "steady" })
end)
