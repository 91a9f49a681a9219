-- Requests to a port nobody listens on, one after another: each is a failure, at once.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/refused", { timeout = 10 }) end)
