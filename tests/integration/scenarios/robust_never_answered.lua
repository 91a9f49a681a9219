-- Every request goes to a path the server never answers.
local cicada = require "cicada"
local U = cicada.user("U")
U:task(function(self) self.client:get("/never-respond") end)
