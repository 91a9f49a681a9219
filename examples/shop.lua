-- An online shop: shoppers log in once, browse the catalogue, look at items and sometimes
-- hit a broken page; a smaller group of admins checks the health endpoint.
--   cicada target --port 8080 &
--   cicada run examples/shop.lua -H http://127.0.0.1:8080 -u 50 -r 10 -t 1m
local cicada = require "cicada"

local Shopper = cicada.user("Shopper", { weight = 3, wait_time = cicada.between(0.05, 0.2) })

function Shopper:on_start()
  local res = self.client:post("/login", { json = { user = "shopper" .. self.user_id, password = "demo" } })
  self.token = res.ok and res:json().token or nil
end

local function auth(self)
  return { Authorization = "Bearer " .. tostring(self.token) }
end

Shopper:task(5, function(self)
  self.client:get("/items", { headers = auth(self) })
end)

Shopper:task(3, function(self)
  local id = math.random(100)
  local res = self.client:get("/items/" .. id, { name = "/items/[id]", headers = auth(self) })
  if res.ok and not res:json().price then error("item " .. id .. " has no price") end
end)

Shopper:task(1, function(self)
  -- A page that does not exist: shows up as a failure in the report.
  self.client:get("/items/0", { name = "/items/[id]", headers = auth(self) })
end)

local Admin = cicada.user("Admin", { weight = 1, wait_time = cicada.constant(0.5) })

Admin:task(function(self)
  self.client:get("/status/200", { name = "/health" })
end)
