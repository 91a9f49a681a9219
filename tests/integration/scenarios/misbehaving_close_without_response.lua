-- The server reads the request and closes the connection without answering.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/close-without-response", { timeout = misbehaving.BOUND_S }) end)
