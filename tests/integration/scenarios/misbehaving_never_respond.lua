-- The server reads the request and never answers; the request's deadline is 1 s.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/never-respond", { timeout = 1 }) end)
