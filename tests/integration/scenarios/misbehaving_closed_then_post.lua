-- The server announces keep-alive and closes; the next request on that connection is an
-- 8 MiB POST. Writing to the closed connection must be a recorded failure or, when the server
-- cannot have seen the request, a retry on a new connection: never a SIGPIPE.
local misbehaving = require "misbehaving_lib"
local BODY = string.rep("p", 8 * 1024 * 1024)
misbehaving.user(function(self)
  self.client:get("/keep-alive-then-close", { timeout = misbehaving.BOUND_S })
  self.client:post("/accept", { body = BODY, timeout = misbehaving.BOUND_S })
end)
