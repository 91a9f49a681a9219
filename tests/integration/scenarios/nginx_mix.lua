local cicada = require "cicada"
local U = cicada.user("U")
U:task(4, function(self)
  local res = self.client:get("/items/" .. math.random(100), { name = "/items/[id]" })
  if res.ok and res:json().price ~= 10 then error("wrong price") end
end)
U:task(1, function(self) self.client:get("/missing") end)
