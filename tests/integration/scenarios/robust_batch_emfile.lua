-- Each task sends a batch of 200 requests at once: far more connections than the test lets
-- this process open (ulimit -n). Every request that gets no socket fails with EMFILE.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  local items = {}
  for i = 1, 200 do items[i] = { "GET", "/", { name = "batch" } } end
  self.client:batch(items)
end)
