-- A chunked body that never ends, trickling (never idle): the request's deadline ends it.
local misbehaving = require "misbehaving_lib"
misbehaving.user(function(self) self.client:get("/endless-chunked-slow", { timeout = 1.5 }) end)
