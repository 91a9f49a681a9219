-- Request targets: spaces and non-ASCII text are percent-encoded as python-requests does, escapes
-- already there are kept; CR/LF in a path, a method or a header is an error at this line and
-- nothing is sent. Prints what the target saw, for test_http_client.py.
local cicada = require "cicada"

local U = cicada.user("U")

U:task(function(self)
  local res = self.client:get("/anything/The godfather/1972?q=caf\xc3\xa9 au lait&kept=%41%2F", { name = "spaces" })
  local seen = res:json()
  print(("SEEN path=%s query=%s"):format(seen.path, seen.query))
  local attempts = {
    path = function() self.client:get("/p HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET /q") end,
    method = function() self.client:request("GET /x HTTP/1.1\r\nX-Injected: yes\r\n\r\nGET", "/") end,
    header = function() self.client:get("/anything", { headers = { ["X-Note"] = "a\r\nX-Injected: yes" } }) end,
    header_name = function() self.client:get("/anything", { headers = { ["X-Injected: yes\r\nX-Note"] = "a" } }) end,
    absolute = function() self.client:get("http://127.0.0.1\r\nX-Injected: yes\r\n/") end,
  }
  for _, what in ipairs { "path", "method", "header", "header_name", "absolute" } do
    local ok, err = pcall(attempts[what])
    print(("REFUSED %s %s %s"):format(what, tostring(not ok), tostring(err)))
  end
end)
