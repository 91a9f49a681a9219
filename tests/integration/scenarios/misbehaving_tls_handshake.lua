-- Every request meets a TLS handshake that goes wrong (the test picks how): a recorded failure.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/ok", { timeout = 10 }) end)
