-- No Content-Length, no chunking: the body ends when the server closes. It must arrive whole.
local misbehaving = require "misbehaving_lib"
local CLOSE_DELIMITED_BODY = string.rep("0123456789", 10000)  -- misbehaving_server.CLOSE_DELIMITED_BODY
misbehaving.user(function(self)
  local res = self.client:get("/close-delimited", { timeout = misbehaving.BOUND_S })
  misbehaving.expect(res, { status = 200, body = CLOSE_DELIMITED_BODY })
end)
