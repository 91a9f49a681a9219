-- A chunked body that never ends, as fast as the client reads: it outgrows the kept-body limit.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/endless-chunked", { timeout = misbehaving.BOUND_S }) end)
