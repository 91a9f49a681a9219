-- Step load: 10 more users every minute, up to 50, to find the step where response times
-- start to climb. Each step starts at 10 users per second, then holds.
--   cicada run examples/step_load.lua -H http://127.0.0.1:8080 --csv out/steps
-- TIME_SCALE shrinks every duration for a quick try (TIME_SCALE=0.05: a step lasts 3 s).
local cicada = require "cicada"

local minute = 60 * (tonumber(os.getenv("TIME_SCALE")) or 1)

local Reader = cicada.user("Reader", { wait_time = cicada.between(0.5, 1) })

Reader:task(3, function(self) self.client:get("/items") end)
Reader:task(1, function(self) self.client:get("/items/" .. math.random(100), { name = "/items/[id]" }) end)

local steps = {}
for users = 10, 50, 10 do
  steps[#steps + 1] = { duration = minute, users = users, spawn_rate = 10 }
end
cicada.stages(steps)
