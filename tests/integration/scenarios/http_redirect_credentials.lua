-- Credentials across redirects: for each redirect status, a request that carries cookies (given
-- per request, or as a Cookie header) and an Authorization header is redirected once to the same
-- origin and once to another host (localhost instead of 127.0.0.1, the same target). Prints what
-- the target received at the end of each redirect, for test_http_client.py to check.
local cicada = require "cicada"

local U = cicada.user("U")

local function quote(text) return text and ("%q"):format(text) or "none" end

U:task(function(self)
  local port = self.client:get("/anything", { name = "origin" }).url:match(":(%d+)/")
  local origins = { same = "http://127.0.0.1:" .. port, other = "http://localhost:" .. port }
  for _, status in ipairs { 301, 302, 303, 307, 308 } do
    for _, where in ipairs { "same", "other" } do
      local url = origins[where] .. "/anything/landed"
      local location = "/redirect-to?status=" .. status .. "&url=" .. url:gsub(":", "%%3A"):gsub("/", "%%2F")
      for _, how in ipairs { "opts", "header" } do
        local opts = { headers = { Authorization = "Bearer secret" }, name = "redirect " .. status }
        if how == "opts" then opts.cookies = { given = "per-request" } else opts.headers.Cookie = "given=header" end
        local res = self.client:get(location, opts)
        local seen = res:json().headers
        print(("LANDED %d %s %s cookie=%s authorization=%s"):format(status, where, how, quote(seen.cookie),
                                                                    quote(seen.authorization)))
      end
    end
  end
end)
