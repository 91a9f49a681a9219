-- The server closes the kept-alive connection 100 ms after its answer (an idle timeout); the
-- user's next request, 300 ms later, is a POST that must not meet the closed connection.
local cicada = require "cicada"
local misbehaving = require "misbehaving_lib"
local BODY = string.rep("p", 1024 * 1024)
misbehaving.user(function(self)
  self.client:get("/keep-alive-then-idle-close", { timeout = misbehaving.BOUND_S })
  cicada.sleep(0.3)
  local res = self.client:post("/accept", { body = BODY, timeout = misbehaving.BOUND_S })
  misbehaving.expect(res, { status = 200, body = "accepted" })
end)
