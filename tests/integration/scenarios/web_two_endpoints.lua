-- The web UI tests: two entries, one of them always failing, three to one; tagged, so that a
-- start from the web form can pick the tasks.
local cicada = require "cicada"
local Web = cicada.user("Web", { wait_time = cicada.constant(0.005) })
Web:task(3, { tags = { "items" } }, function(self) self.client:get("/items") end)
Web:task(1, { tags = { "failing" } }, function(self) self.client:get("/status/500", { name = "/fail" }) end)
