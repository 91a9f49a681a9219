-- A request with the usual options, a JSON body, header and body access: still no heap
-- allocation per request once the pools are warm.
local cicada = require "cicada"
local U = cicada.user("U")
local n = 0
U:task(function(self)
  n = n + 1
  local res = self.client:post("/echo", {
    name = "/echo",
    json = { id = n % 100 },
    params = { page = n % 5 },
    headers = { ["X-Request"] = "1" },
  })
  if res.status ~= 200 or res.headers["content-type"] ~= "application/json" or #res.body == 0 then
    error("unexpected answer")
  end
end)
