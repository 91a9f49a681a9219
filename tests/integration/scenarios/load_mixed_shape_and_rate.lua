local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/") end)
cicada.stages { { duration = "1s", users = 2 } }
