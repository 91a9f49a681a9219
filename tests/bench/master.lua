-- `scripts/bench --only master`: a master's script. Its users run on simulated workers
-- (tests/bench/fake_workers.py), which never run them.
local cicada = require "cicada"
local Bench = cicada.user("Bench", { wait_time = cicada.constant(1) })
Bench:task(function(self) self.client:get("/") end)
