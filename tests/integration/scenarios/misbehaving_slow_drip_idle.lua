-- One byte every 500 ms, with an idle timeout of 250 ms: the first gap ends the request.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  self.client:get("/slow-drip", { idle_timeout = 0.25, timeout = misbehaving.BOUND_S })
end)
