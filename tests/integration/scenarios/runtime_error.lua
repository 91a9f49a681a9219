local cicada = require "cicada"
local U = cicada.user("U")
local settings = nil
U:task(function(self) self.client:get("/") end)
print(settings.missing_field)
