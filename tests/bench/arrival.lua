-- scripts/bench --only arrival: the open model's timekeeping. Each iteration is one GET of "/",
-- started by the arrival schedule (--arrival-rate), not by the previous response.
local cicada = require "cicada"

local Arrival = cicada.user("Arrival")

Arrival:task(function(self)
  self.client:get("/")
end)
