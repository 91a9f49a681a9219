-- A malformed threshold: the run must stop with file:line before any traffic.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/") end)
cicada.thresholds {
  ["GET / p95"] = "<100 parsecs",
}
