-- An API-key proxy in front of a rate-limited upstream. Tasks are tagged by scenario; pick
-- them with -T:
--   cicada run examples/api_key_proxy.lua -H http://127.0.0.1:8080 -u 20 -r 5 -t 2m -T normal_load
--   cicada run examples/api_key_proxy.lua ... -T high_load
--   cicada run examples/api_key_proxy.lua ... -T failure_scenario
-- A 429 from the rate limiter is the proxy doing its job, so it is recorded as a success.
local cicada = require "cicada"

local Client = cicada.user("ProxyClient", { wait_time = cicada.between(0.1, 0.5) })

function Client:on_start()
  self.headers = { Authorization = "Bearer sk-test-" .. self.user_id }
end

local function call(self, path, name)
  local res = self.client:post(path, {
    json = { model = "small", input = "hello" },
    headers = self.headers,
    name = name,
    catch_response = true,
  })
  if res.status == 429 then
    res:success() -- rate limited: expected behaviour, not a failure
  elseif res.status >= 400 then
    res:failure("upstream answered " .. res.status)
  end
  return res
end

Client:task(5, { tags = { "normal_load" } }, function(self)
  call(self, "/proxy/v1/chat", "chat")
end)

Client:task(3, { tags = { "high_load" } }, function(self)
  for _ = 1, 5 do call(self, "/proxy/v1/embeddings", "embeddings burst") end
end)

Client:task(1, { tags = { "failure_scenario" } }, function(self)
  -- The upstream is down: these must show up as failures in the report.
  call(self, "/proxy/fail/502", "upstream down")
  -- No key: the proxy must refuse (401), which here is the expected answer.
  local res = self.client:get("/proxy/v1/models", { name = "no key", catch_response = true })
  if res.status == 401 then res:success() else res:failure("accepted a request without a key") end
end)
