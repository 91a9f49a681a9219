-- Exercises the request options and response fields; any mismatch raises (an exception).
local cicada = require "cicada"
local U = cicada.user("U")

U:task(function(self)
  local res = self.client:post("/echo", {
    json = { user = "ada", tags = { "a", "b" } },
    params = { q = "a b", page = 2, multi = { "x", "y" } },
    headers = { ["X-Request-Id"] = "42", ["User-Agent"] = "custom-agent" },
    name = "echo",
  })
  assert(res.status == 200 and res.ok and res.error == nil, "status " .. res.status)
  assert(res.headers["Content-Type"] == res.headers["content-type"], "case-insensitive headers")
  local echo = res:json()
  assert(echo.method == "POST", echo.method)
  assert(echo.query == "multi=x&multi=y&page=2&q=a%20b", echo.query)
  assert(echo.headers["x-request-id"] == "42")
  assert(echo.headers["user-agent"] == "custom-agent", echo.headers["user-agent"])
  assert(echo.headers["content-type"] == "application/json")
  local sent = cicada.json.decode(echo.body)
  assert(sent.user == "ada" and sent.tags[2] == "b")
  assert(type(res.elapsed) == "number" and res.elapsed > 0 and res.elapsed < 5)
  assert(res.url:match("^http://127%.0%.0%.1:%d+/echo%?multi=x"), res.url)

  local raw = self.client:request("put", "/echo", { body = "plain text", headers = { ["Content-Type"] = "text/plain" }, name = "echo" })
  local e = raw:json()
  assert(e.method == "PUT" and e.body == "plain text" and e.headers["content-type"] == "text/plain")

  local chunked = self.client:get("/chunked/20000")
  assert(#chunked.body == 20000, #chunked.body)
  local bytes = self.client:get("/bytes/70000")
  assert(#bytes.body == 70000)
  local head = self.client:head("/bytes/10")
  assert(head.status == 200 and head.body == "")

  local closing = self.client:get("/close")
  assert(closing.ok and closing.headers["connection"] == "close")
  assert(self.client:get("/json").ok, "reconnects after Connection: close")

  local slow = self.client:get("/delay/300", { timeout = 0.05 })
  assert(slow.status == 0 and slow.error == "timeout" and not slow.ok, tostring(slow.error))

  local bad = pcall(function() return self.client:get("/x", { headers = { ["Bad Header"] = "1" } }) end)
  assert(not bad, "invalid header names are refused")
  local text = self.client:get("/")
  local ok_json, message = pcall(text.json, text)
  assert(not ok_json and tostring(message):find("not valid JSON"), tostring(message))
end)
