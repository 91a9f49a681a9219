-- Many users each receive a chunked body that never ends, under a small --max-body-memory:
-- the bodies past the budget are counted and discarded; each request ends at its deadline.
-- Prints a line for each discarded response, for the test to count.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self)
  local res = self.client:get("/endless-chunked", { timeout = 3 })
  if res.body_discarded then
    assert(res.body == "", "a discarded body is empty")
    print("DISCARDED")
  end
end)
