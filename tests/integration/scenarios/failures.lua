local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  local res = self.client:get("/status/500")
  assert(res.status == 500 and not res.ok and res.error == "HTTP 500 Internal Server Error", tostring(res.error))
  assert(self.client:get("/json").ok)
end)
