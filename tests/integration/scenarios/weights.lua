local cicada = require "cicada"
local U = cicada.user("U")
U:task(3, function(self) self.client:get("/", { name = "heavy" }) end)
U:task(1, function(self) self.client:get("/", { name = "light" }) end)
