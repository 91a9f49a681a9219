-- The smallest useful scenario: one kind of user, two tasks, a short think time.
--   cicada run examples/quickstart.lua -H http://127.0.0.1:8080 -u 10 -r 5 -t 30s
local cicada = require "cicada"

local Visitor = cicada.user("Visitor", { wait_time = cicada.between(0.1, 0.5) })

Visitor:task(3, function(self)
  self.client:get("/")
end)

Visitor:task(1, function(self)
  local res = self.client:get("/json")
  if res.status == 200 then
    local doc = res:json()
    assert(doc.name, "the /json document has no name")
  end
end)
