-- A 64 MiB body: more than the kept-body limit (16 MiB by default).
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/huge-body", { timeout = misbehaving.BOUND_S }) end)
