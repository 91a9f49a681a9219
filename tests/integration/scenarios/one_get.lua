-- One request per task run: the request count must equal the iteration count.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/") end)
