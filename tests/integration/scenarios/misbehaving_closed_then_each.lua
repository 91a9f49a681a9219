-- After each answer the server closes the kept-alive connection; the next request on it is, in
-- turn, a GET, a small POST and an 8 MiB POST (plain HTTP or TLS, as the test starts the server).
-- A GET goes again on a new connection; a POST too when the server cannot have seen it; else
-- it is a failure with a reason. Never a signal.
local misbehaving = require "misbehaving_lib"
local SMALL = string.rep("s", 100)
local LARGE = string.rep("l", 8 * 1024 * 1024)
misbehaving.user(function(self)
  local bound = { timeout = misbehaving.BOUND_S }
  self.client:get("/keep-alive-then-close", bound)
  self.client:get("/accept", { timeout = misbehaving.BOUND_S, name = "GET after close" })
  self.client:get("/keep-alive-then-close", bound)
  self.client:post("/accept", { body = SMALL, timeout = misbehaving.BOUND_S, name = "small POST after close" })
  self.client:get("/keep-alive-then-close", bound)
  self.client:post("/accept", { body = LARGE, timeout = misbehaving.BOUND_S, name = "large POST after close" })
end)
