-- 64 KiB of gzip that decode to 64 MiB: more than the kept-body limit (16 MiB by default).
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/gzip-bomb", { timeout = misbehaving.BOUND_S }) end)
