-- 2 MiB of response headers: more than the client's 1 MiB limit.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/huge-headers", { timeout = misbehaving.BOUND_S }) end)
