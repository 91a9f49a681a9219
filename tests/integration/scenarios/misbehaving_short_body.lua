-- The server announces 1000 bytes of body, sends 100 and closes.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/short-body", { timeout = misbehaving.BOUND_S }) end)
