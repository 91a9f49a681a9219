-- The server reads the request and never answers; the first-byte timeout (0.5 s) ends it.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  self.client:get("/never-respond", { first_byte_timeout = 0.5, timeout = misbehaving.BOUND_S })
end)
