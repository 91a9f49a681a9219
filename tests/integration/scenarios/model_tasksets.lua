-- Task sets and sequences: entering, interrupting, on_start/on_stop, self.user/parent/client.
local cicada = require "cicada"

local Browse = cicada.taskset{
  name = "Browse",
  on_start = function(self) self.client:get("/", { name = "browse on_start" }) end,
  on_stop = function(self) self.client:get("/", { name = "browse on_stop" }) end,
  tasks = {
    { weight = 3, fn = function(self)
      assert(self.user and self.parent == self.user and self.client == self.user.client, "task set fields")
      self.client:get("/items", { name = "browse items" })
    end },
    function(self) self:interrupt() end,
  },
}

local Checkout = cicada.sequence{
  name = "Checkout",
  function(self) self.user.step = 1; self.client:get("/json", { name = "step 1" }) end,
  function(self) assert(self.user.step == 1, "order"); self.user.step = 2; self.client:get("/json", { name = "step 2" }) end,
  function(self) assert(self.user.step == 2, "order"); self.client:get("/json", { name = "step 3" }); self:interrupt() end,
}

local U = cicada.user("U")
U:task(2, Browse)
U:task(1, Checkout)
