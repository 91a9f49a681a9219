-- A chunked body whose chunk size is not hexadecimal.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/bad-chunk-size", { timeout = misbehaving.BOUND_S }) end)
