-- The soak scenario (scripts/soak): a long run whose memory and open files must stay flat.
-- Plain users against `cicada target` keep their connections alive, reconnect every 100th
-- iteration (the target's /close), follow redirects and carry cookies; TLS users make requests
-- to nginx over https, with a new connection (and a resumed session) now and then.
local cicada = require "cicada"

local Plain = cicada.user("Plain", { weight = 4, wait_time = cicada.constant(0.1) })

function Plain:on_start()
  self.n = 0
  self.client:get("/cookies/set?session=" .. self.user_id, { name = "/cookies/set" })
end

Plain:task(6, function(self)
  self.n = self.n + 1
  local res = self.client:get("/items/" .. (self.n % 100 + 1), { name = "/items/[id]" })
  if self.n % 100 == 0 then self.client:get("/close", { name = "/close" }) end  -- the target closes: reconnect
  return res
end)

Plain:task(1, function(self)
  local res = self.client:get("/redirect/2", { name = "/redirect/2" })
  assert(res.status == 200 and #res.history == 2, "redirects followed")
end)

Plain:task(1, function(self)
  local res = self.client:get("/cookies", { name = "/cookies" })
  assert(res:json().cookies.session ~= nil, "the session cookie comes back")
end)

local tls_url = os.getenv("SOAK_TLS_URL")
local Secure = cicada.user("Secure", {
  weight = 1, wait_time = cicada.constant(0.1), host = tls_url, client = { verify = false },
})

function Secure:on_start() self.n = 0 end

Secure:task(function(self)
  self.n = self.n + 1
  self.client:get("/", { name = "https /" })
  if self.n % 20 == 0 then self.client:get("/close", { name = "https /close" }) end
end)
