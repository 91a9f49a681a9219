-- The server's status line has no status code.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/bad-status-line", { timeout = misbehaving.BOUND_S }) end)
