-- A job-scheduling API with three kinds of users:
--   RegularUser (weight 10): list jobs 40%, list templates 30%, job details 20%, create 8%, search 2%
--   AdminUser (weight 1): statistics and clean-up, with an admin token
--   SpikeUser (weight 0): never picked by weight; run it explicitly to simulate a burst:
--     cicada run examples/jobs.lua SpikeUser -H http://127.0.0.1:8080 -u 200 -r 100 -t 30s
--   cicada run examples/jobs.lua -H http://127.0.0.1:8080 -u 55 -r 5 -t 5m
local cicada = require "cicada"

local Regular = cicada.user("RegularUser", { weight = 10, wait_time = cicada.between(1, 3) })

Regular:task(40, function(self) self.client:get("/api/jobs") end)
Regular:task(30, function(self) self.client:get("/api/templates") end)
Regular:task(20, function(self)
  self.client:get("/api/jobs/" .. math.random(1000), { name = "/api/jobs/[id]" })
end)
Regular:task(8, function(self)
  local res = self.client:post("/api/jobs", { json = { name = "report-" .. self.user_id } })
  if res.status == 201 then self.last_job = res:json().id end
end)
Regular:task(2, function(self)
  self.client:get("/api/search", { params = { q = "report" }, name = "/api/search" })
end)

local Admin = cicada.user("AdminUser", { weight = 1, wait_time = cicada.between(2, 5) })

function Admin:on_start()
  self.headers = { ["X-Admin-Token"] = "admin" }
end

Admin:task(3, function(self) self.client:get("/api/admin/stats", { headers = self.headers }) end)
Admin:task(1, function(self)
  self.client:delete("/api/jobs/" .. math.random(1000), { name = "/api/jobs/[id]", headers = self.headers })
end)

local Spike = cicada.user("SpikeUser", { weight = 0 })

Spike:task(function(self) self.client:get("/api/jobs") end)
