-- Redirects, cookies, compression and basic auth against the target's httpbin-like endpoints.
local cicada = require "cicada"

local Browser = cicada.user("Browser")

Browser:task(function(self)
  -- Redirects: relative and absolute, recorded once under the original name with the hops.
  local chain = self.client:get("/redirect/3", { name = "chain" })
  assert(chain.status == 200 and chain:json().redirected, chain.status)
  assert(#chain.history == 3 and chain.history[1].status == 302, #chain.history)
  assert(chain.url:match("/redirect/0$") and chain.history[1].url:match("/redirect/3$"), chain.url)
  local absolute = self.client:get("/absolute-redirect/2", { name = "absolute" })
  assert(absolute.ok and #absolute.history == 2)
  local held = self.client:get("/redirect/1", { allow_redirects = false, name = "held" })
  assert(held.status == 302 and held.headers.location == "/redirect/0" and #held.history == 0)
  -- 303 turns a POST into a GET without body; 307 keeps both.
  local see_other = self.client:post("/redirect-to?url=%2Fanything%2Fafter&status=303", { json = { a = 1 }, name = "303" })
  local after = see_other:json()
  assert(after.method == "GET" and after.body == "" and after.path == "/anything/after", after.method)
  local temporary = self.client:post("/redirect-to?url=%2Fanything%2Fkept&status=307", { body = "payload", name = "307" })
  assert(temporary:json().method == "POST" and temporary:json().body == "payload")
  local loop = self.client:get("/redirect-loop", { name = "loop" })
  assert(loop.error == "too many redirects" and loop.status == 302, tostring(loop.error))

  -- Cookies: set by the server (through a redirect), sent back, readable, settable, deleted.
  self.client:clear_cookies()
  local set = self.client:get("/cookies/set?session=abc&theme=dark", { name = "cookies set" })
  assert(set:json().cookies.session == "abc" and set:json().cookies.theme == "dark")
  assert(self.client.cookies.session == "abc")
  local with_extra = self.client:get("/cookies", { cookies = { extra = "1" }, name = "cookies" }):json().cookies
  assert(with_extra.extra == "1" and with_extra.session == "abc")
  assert(self.client.cookies.extra == nil, "per-request cookies are not kept")
  self.client:set_cookie("mine", "42")
  assert(self.client:get("/cookies", { name = "cookies" }):json().cookies.mine == "42")
  self.client:get("/cookies/delete?session", { name = "cookies delete" })
  assert(self.client.cookies.session == nil)
  self.client.cookies = { only = "this" }
  local only = self.client:get("/cookies", { name = "cookies" }):json().cookies
  assert(only.only == "this" and only.mine == nil and only.theme == nil)

  -- Compression: decoded transparently; a corrupt body is a clear failure.
  local gz = self.client:get("/gzip", { name = "gzip" })
  assert(gz.ok and gz:json().gzipped == true and gz.headers["content-encoding"] == "gzip")
  assert(gz.length == #gz.body)
  assert(self.client:get("/deflate", { name = "deflate" }):json().deflated == true)
  local corrupt = self.client:get("/gzip/corrupt", { name = "corrupt gzip" })
  assert(corrupt.status == 0 and corrupt.error:match("^content decoding failed %(gzip: "), tostring(corrupt.error))

  -- Basic auth.
  assert(self.client:get("/basic-auth/ada/pw", { auth = { "ada", "pw" }, name = "auth" }):json().authenticated)
  local denied = self.client:get("/basic-auth/ada/pw", { auth = { "ada", "wrong" }, name = "auth denied" })
  assert(denied.status == 401)
end)
