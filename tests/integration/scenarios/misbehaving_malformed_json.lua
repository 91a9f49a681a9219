-- A 200 whose JSON body is cut short: res:json() raises, the task's error is an exception.
local misbehaving = require "misbehaving_lib"
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self)
  self.client:get("/ok")
  local res = self.client:get("/malformed-json", { timeout = misbehaving.BOUND_S })
  res:json()
end)
