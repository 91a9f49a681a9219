-- The distributed tests (test_distributed.py): two classes, three to one, one of them always
-- failing and raising every tenth run; tests/integration/locust/dist_locustfile.py declares
-- the same classes for a Locust master.
local cicada = require "cicada"

local Shopper = cicada.user("Shopper", { weight = 3, wait_time = cicada.constant(0.1) })
Shopper:task(function(self) self.client:get("/items/1", { name = "/items/[id]" }) end)

local Broken = cicada.user("Broken", { weight = 1, wait_time = cicada.constant(0.1) })
Broken:task(function(self)
  self.client:get("/error")
  self.runs = (self.runs or 0) + 1
  if self.runs % 10 == 0 then error("deliberate failure every 10th run") end
end)
