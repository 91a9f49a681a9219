-- Two requests per task run, from two classes of different weights. Users pace themselves so
-- that the work spreads over all of them, not just the first ones spawned.
local cicada = require "cicada"
local A = cicada.user("A", { weight = 3, wait_time = cicada.constant(0.02) })
A:task(function(self)
  self.client:get("/", { name = "A first" })
  self.client:get("/json", { name = "A second" })
end)
local B = cicada.user("B", { weight = 1, wait_time = cicada.constant(0.02) })
B:task(function(self)
  self.client:get("/", { name = "B first" })
  self.client:get("/json", { name = "B second" })
end)
