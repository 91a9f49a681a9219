-- Request names that carry ids (a new name per request, as `/anything/<id>` without `name =`):
-- the run must warn once they pass 1,000 distinct entries and say how to group them.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  local id = math.random(1, 1000000000)
  self.client:get("/anything/" .. id .. "/rev/" .. string.format("%08x", id * 7 % 4294967296))
end)
