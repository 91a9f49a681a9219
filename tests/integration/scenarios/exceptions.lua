-- Every other task run raises; the user must go on, so all iterations still happen.
local cicada = require "cicada"
local U = cicada.user("U")
local runs = 0
U:task(function(self)
  runs = runs + 1
  self.client:get("/json")
  if runs % 2 == 0 then
    error("deliberate failure in task")
  end
end)
