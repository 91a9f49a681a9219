-- The server answers 413 and closes before reading the 8 MiB request body.
local misbehaving = require "misbehaving_lib"
local BODY = string.rep("x", 8 * 1024 * 1024)
misbehaving.user(function(self)
  local res = self.client:post("/early-response", { body = BODY, timeout = misbehaving.BOUND_S })
  if res.status ~= 413 then error("expected the server's 413, got " .. res.status .. " (" .. tostring(res.error) .. ")") end
end)
