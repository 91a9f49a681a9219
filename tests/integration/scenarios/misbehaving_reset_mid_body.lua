-- The server resets the connection (RST) in the middle of the body.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/reset-mid-body", { timeout = misbehaving.BOUND_S }) end)
