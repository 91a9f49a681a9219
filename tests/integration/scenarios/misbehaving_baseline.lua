-- Only well-behaved paths: the memory baseline the other cases are compared with.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/json", { timeout = misbehaving.BOUND_S }) end)
