-- Shared by the misbehaving_*.lua scenarios (tests/integration/test_misbehaving_servers.py,
-- against tests/integration/misbehaving_server.py). Each scenario declares one user class whose
-- task meets one misbehaving path, then makes a GET /ok to a well-behaved one: the report shows
-- the failure, and that the user went on. Checks on responses that should succeed raise, so the
-- reason shows in the report's exceptions.
local cicada = require "cicada"

local M = {}

-- Every request to a misbehaving path is bounded, so that a client that hangs where it should
-- fail reports `timeout` instead of running into the test's own time limit.
M.BOUND_S = 10

-- Declares the user class: `exchange(self)` meets the misbehaving server, GET /ok follows.
function M.user(exchange)
  local U = cicada.user("U")
  U:task(function(self)
    exchange(self)
    self.client:get("/ok")
  end)
  return U
end

-- Raises unless `res` is what the test expects: `status`, `body` (a string), `length` (body
-- bytes received), `headers` (name = value, or name = false for "absent"). A success is
-- expected: res.error must be nil.
function M.expect(res, expected)
  local where = res.url
  if res.status ~= expected.status or res.error ~= nil then
    error(string.format("%s: expected status %d, got %d (error: %s)", where, expected.status, res.status,
                        tostring(res.error)), 2)
  end
  if expected.body ~= nil and res.body ~= expected.body then
    error(string.format("%s: expected a body of %d bytes, got %d bytes starting with %q", where, #expected.body,
                        #res.body, res.body:sub(1, 40)), 2)
  end
  if expected.length ~= nil and res.length ~= expected.length then
    error(string.format("%s: expected %d body bytes received, got %s", where, expected.length, tostring(res.length)), 2)
  end
  for name, value in pairs(expected.headers or {}) do
    local got = res.headers[name]
    if (value == false and got ~= nil) or (value ~= false and got ~= value) then
      error(string.format("%s: expected header %s = %s, got %s", where, name, tostring(value), tostring(got)), 2)
    end
  end
end

return M
