-- A monitoring agent polling a service, at five load levels chosen with LEVEL:
--   LEVEL=smoke  cicada run examples/monitoring.lua -H http://127.0.0.1:8080
--   LEVEL=stress cicada run examples/monitoring.lua -H http://127.0.0.1:8080
-- Each level sets users, spawn rate and run time as defaults; the command line still wins
-- (LEVEL=heavy cicada run ... -t 30s).
local cicada = require "cicada"

local levels = {
  smoke  = { users = 1,    spawn_rate = 1,  run_time = "1m" },
  light  = { users = 10,   spawn_rate = 2,  run_time = "5m" },
  medium = { users = 50,   spawn_rate = 5,  run_time = "10m" },
  heavy  = { users = 200,  spawn_rate = 20, run_time = "15m" },
  stress = { users = 1000, spawn_rate = 50, run_time = "20m" },
}
local level = os.getenv("LEVEL") or "smoke"
if not levels[level] then
  error("LEVEL must be one of smoke, light, medium, heavy, stress (got " .. level .. ")")
end
cicada.options(levels[level])

local Agent = cicada.user("MonitoringAgent", { wait_time = cicada.between(0.5, 1.5) })

Agent:task(5, function(self) self.client:get("/health/") end)
Agent:task(3, function(self) self.client:get("/system/metrics") end)
Agent:task(2, function(self) self.client:get("/analysis/") end)
Agent:task(2, function(self) self.client:get("/lmcache/status") end)
Agent:task(1, function(self)
  local res = self.client:post("/optimize/run", { json = { target = "cache" }, catch_response = true })
  if res.status ~= 202 then res:failure("optimize not accepted: " .. res.status) end
end)
