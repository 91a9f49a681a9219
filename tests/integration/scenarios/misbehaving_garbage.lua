-- The server answers with bytes that are not HTTP.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/garbage", { timeout = misbehaving.BOUND_S }) end)
