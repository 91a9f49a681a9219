-- scripts/bench, comparison 2: a different path per request, grouped under one stats name, and
-- a status check. Its wrk counterpart is tests/bench/items_wrk.lua, which does the same work.
local cicada = require "cicada"

local Items = cicada.user("Items")

local counter = 0  -- one per worker thread, like wrk's one per wrk thread

Items:task(function(self)
  counter = counter + 1
  local res = self.client:get("/items/" .. (counter % 100 + 1), { name = "/items/[id]" })
  if res.status ~= 200 then
    error("unexpected status " .. tostring(res.status))
  end
end)
