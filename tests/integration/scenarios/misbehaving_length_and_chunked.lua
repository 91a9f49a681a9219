-- Content-Length and Transfer-Encoding: chunked in the same response.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/length-and-chunked", { timeout = misbehaving.BOUND_S }) end)
