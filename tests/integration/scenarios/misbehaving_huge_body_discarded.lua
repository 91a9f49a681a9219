-- A 64 MiB body with discard_body: counted, not kept, so it succeeds.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  local res = self.client:get("/huge-body", { discard_body = true, timeout = misbehaving.BOUND_S })
  misbehaving.expect(res, { status = 200, body = "", length = 64 * 1024 * 1024 })
end)
