local cicada = require "cicada"
local U = cicada.user("U", { wait_time = cicada.constant(0.01) })
local done = 0
U:task(function(self)
  self.client:get("/", { name = "loop" })
  done = done + 1
  if done == 20 then cicada.stop_test("enough requests") end
end)
