-- Content-Encoding: gzip with a broken body; then a valid gzip body, which must be decoded.
local misbehaving = require "misbehaving_lib"
local GZIP_TEXT = string.rep("decoded gzip body ", 100)  -- misbehaving_server.GZIP_TEXT
misbehaving.user(function(self)
  self.client:get("/corrupt-gzip", { timeout = misbehaving.BOUND_S })
  misbehaving.expect(self.client:get("/gzip", { timeout = misbehaving.BOUND_S }), { status = 200, body = GZIP_TEXT })
end)
