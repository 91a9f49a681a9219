local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/delay/1500", { name = "slow" }) end)
