-- The server answers 413 and closes at once, with the 8 MiB request body unread: the client's
-- writes meet a reset connection.
local misbehaving = require "misbehaving_lib"
local BODY = string.rep("x", 8 * 1024 * 1024)
misbehaving.user(function(self)
  self.client:post("/early-response-reset", { body = BODY, timeout = misbehaving.BOUND_S })
end)
