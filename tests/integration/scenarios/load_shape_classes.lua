-- A shape that runs class A first, then swaps every user for class B.
local cicada = require "cicada"
local A = cicada.user("A", { wait_time = cicada.constant(0.05) })
A:task(function(self) self.client:get("/", { name = "a" }) end)
local B = cicada.user("B", { wait_time = cicada.constant(0.05) })
B:task(function(self) self.client:get("/", { name = "b" }) end)
cicada.shape(function(run_time)
  if run_time < 1 then return 4, 100, { "A" } end
  if run_time < 2 then return 4, 100, { "B" } end
  return nil
end)
