-- TLS cases against nginx; ports and files come from the test through the environment.
local cicada = require "cicada"
local dir = os.getenv("TLS_DIR")
local plain, mtls, other = os.getenv("TLS_PORT"), os.getenv("MTLS_PORT"), os.getenv("OTHER_PORT")
local ca = dir .. "/ca.pem"

local function show(case, res)
  print(string.format("case %s status=%d error=%s tls=%s body=%s", case, res.status, tostring(res.error),
    res.timings.tls > 0 and "yes" or "no", (res.body:gsub("\n", ""))))
end

local U = cicada.user("U")
U:task(function(self)
  local url = "https://127.0.0.1:" .. plain .. "/"
  show("default", self.client:get(url, { name = "default" }))
  show("insecure", self.client:get(url, { name = "insecure", verify = false }))
  show("ca_file", self.client:get(url, { name = "ca_file", verify = ca }))
  show("by_name", self.client:get("https://localhost:" .. plain .. "/", { name = "by_name", verify = ca }))
  show("mismatch", self.client:get("https://127.0.0.1:" .. other .. "/", { name = "mismatch", verify = ca }))
  show("mtls_without", self.client:get("https://127.0.0.1:" .. mtls .. "/", { name = "mtls_without", verify = ca }))
  show("mtls_with", self.client:get("https://127.0.0.1:" .. mtls .. "/",
    { name = "mtls_with", verify = ca, cert = { dir .. "/client.pem", dir .. "/client.key.pem" } }))
  show("redirect", self.client:get("https://127.0.0.1:" .. plain .. "/redirect", { name = "redirect", verify = ca }))
end)
