-- A worker whose classes are not its master's (test_distributed_master.py).
local cicada = require "cicada"
local Admin = cicada.user("Admin", { wait_time = cicada.constant(0.1) })
Admin:task(function(self) self.client:get("/") end)
