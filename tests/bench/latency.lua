-- scripts/bench, comparison 4 (latency at equal load): one GET after another of a path whose
-- server has a known service time (nginx's echo_sleep, or the target's /delay/{ms}). The bench
-- passes the path in BENCH_LATENCY_PATH; its wrk counterpart is `wrk -t1 -c50 --latency URL/path`.
-- The same script runs in the open model (--arrival-rate) at the rate wrk reached.
local cicada = require "cicada"

local path = os.getenv("BENCH_LATENCY_PATH") or "/"

local Latency = cicada.user("Latency")

Latency:task(function(self)
  self.client:get(path)
end)
