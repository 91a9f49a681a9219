-- The server answers the HTTP/0.9 way: a body without status line or headers.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/http09", { timeout = misbehaving.BOUND_S }) end)
