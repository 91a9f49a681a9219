-- A key-validation API under a steady stream: 100 users ramping up at 10 per second, each
-- POSTing a JSON body to the same endpoint in a tight loop (no wait between requests).
--   cicada target --port 8080 &
--   cicada run examples/key_validation.lua -H http://127.0.0.1:8080 -t 1m
local cicada = require "cicada"

cicada.options{ users = 100, spawn_rate = 10 }

local Validator = cicada.user("KeyValidator")

Validator:task(function(self)
  local key = string.format("sk-%d-%06d", self.user_id, math.random(999999))
  local res = self.client:post("/api/validate-key", {
    json = { api_key = key },
    catch_response = true,
  })
  -- A 200 that says the key is invalid is still a failure for this API.
  if res.status == 200 and res:json().valid ~= true then
    res:failure("valid key rejected")
  end
end)
