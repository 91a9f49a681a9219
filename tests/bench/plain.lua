-- scripts/bench, comparison 1: the plainest loop there is, one GET of "/" after another with no
-- wait time. Its wrk counterpart is `wrk -t1 -c50 URL/` with no Lua script.
local cicada = require "cicada"

local Plain = cicada.user("Plain")

Plain:task(function(self)
  self.client:get("/")
end)
