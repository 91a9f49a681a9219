-- Two Content-Length headers that disagree.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/two-content-lengths", { timeout = misbehaving.BOUND_S }) end)
