local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  self.client:get("/"
end)
