-- A 302 to itself, forever.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/redirect-self", { timeout = misbehaving.BOUND_S }) end)
