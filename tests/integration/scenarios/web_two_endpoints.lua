-- The web UI tests: two entries, one of them always failing, three to one.
local cicada = require "cicada"
local Web = cicada.user("Web", { wait_time = cicada.constant(0.005) })
Web:task(3, function(self) self.client:get("/items") end)
Web:task(1, function(self) self.client:get("/status/500", { name = "/fail" }) end)
