-- The allocation counter's control: every request gets a name of its own, so each one adds a
-- stats entry on the heap. The counter must see that (at least one allocation per request).
local cicada = require "cicada"
local U = cicada.user("U")
local next_name = 0
U:task(function(self)
  next_name = next_name + 1
  self.client:get("/", { name = "/distinct/" .. next_name })
end)
