-- Every iteration takes about DELAY_MS milliseconds (default 200).
local cicada = require "cicada"
local path = "/delay/" .. (os.getenv("DELAY_MS") or "200")
local U = cicada.user("U")
U:task(function(self) self.client:get(path, { name = "slow" }) end)
