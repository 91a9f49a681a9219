local cicada = require "cicada"
local U = cicada.user("U")
local function hit(name) return function(self) self.client:get("/", { name = name }) end end
U:task(1, { tags = { "a" } }, hit("a"))
U:task(1, { tags = { "b" } }, hit("b"))
U:task(1, { tags = { "a", "b" } }, hit("ab"))
U:task(1, hit("untagged"))
U:task(1, cicada.taskset{ tags = { "c" }, tasks = { function(self) self.client:get("/", { name = "c in set" }); self:interrupt() end } })
local Other = cicada.user("Other")
Other:task({ tags = { "z" } }, hit("z"))
