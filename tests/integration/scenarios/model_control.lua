local cicada = require "cicada"
local Quitter = cicada.user("Quitter", { fixed_count = 2 })
function Quitter:on_stop() self.client:get("/", { name = "quitter on_stop" }) end
Quitter:task(function(self)
  self.client:get("/", { name = "quitter task" })
  cicada.stop_user()
end)
