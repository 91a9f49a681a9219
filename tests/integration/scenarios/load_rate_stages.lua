-- A ramping arrival rate: 0 -> 200 iterations a second over 2 s, then 200 a second for 1 s:
-- 200 + 200 = 400 iterations in all.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/") end)
cicada.stages {
  { duration = "2s", rate = 200 },
  { duration = 1, rate = "12000/m" },
}
