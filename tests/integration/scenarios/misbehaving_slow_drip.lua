-- One byte every 500 ms: the whole response would take 24 s; the request's deadline is 2 s.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/slow-drip", { timeout = 2 }) end)
