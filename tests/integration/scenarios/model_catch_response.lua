local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  local limited = self.client:get("/status/429", { catch_response = true, name = "429 expected" })
  if limited.status == 429 then limited:success() end
  local wrong = self.client:get("/json", { catch_response = true, name = "marked failure" })
  wrong:failure("wrong content")
  self.client:get("/status/500", { catch_response = true, name = "undecided 500" })
  self.client:get("/json", { catch_response = true, name = "undecided 200" })
  cicada.record{ name = "custom op", response_time = 5.5, length = 10 }
  cicada.record{ method = "CACHE", name = "custom miss", response_time = 1, error = "miss" }
  local plain = self.client:get("/json", { name = "plain" })
  local ok, message = pcall(plain.success, plain)
  assert(not ok and tostring(message):find("catch_response"), "success() needs catch_response")
  local twice_ok = pcall(limited.failure, limited, "again")
  assert(not twice_ok, "a verdict is given once")
end)
