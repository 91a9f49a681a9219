-- 100, 102 and 103 interim responses before the 200: only the final response counts.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  local res = self.client:get("/interim-responses", { timeout = misbehaving.BOUND_S })
  misbehaving.expect(res, { status = 200, body = "final", headers = { ["x-final"] = "yes", link = false } })
end)
