-- The server announces keep-alive and closes right after the response: the GET /ok that follows
-- finds the connection closed, and must succeed on a new one.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  local res = self.client:get("/keep-alive-then-close", { timeout = misbehaving.BOUND_S })
  misbehaving.expect(res, { status = 200, body = "ok" })
end)
