-- /redirect-a sends to /redirect-b, which sends back to /redirect-a.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/redirect-a", { timeout = misbehaving.BOUND_S }) end)
