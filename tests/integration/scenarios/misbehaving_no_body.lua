-- 204, 304 (with a Content-Length) and HEAD (with a Content-Length): no body, and the
-- connection stays usable for the next request.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  local bound = { timeout = misbehaving.BOUND_S }
  misbehaving.expect(self.client:get("/no-content", bound), { status = 204, body = "", headers = { ["x-status"] = "none" } })
  misbehaving.expect(self.client:get("/not-modified", bound), { status = 304, body = "", headers = { etag = '"v1"' } })
  misbehaving.expect(self.client:head("/head", bound), { status = 200, body = "", headers = { ["content-length"] = "5000" } })
  misbehaving.expect(self.client:get("/head", bound), { status = 200, body = string.rep("h", 5000) })
end)
