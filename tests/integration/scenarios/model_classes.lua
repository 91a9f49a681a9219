local cicada = require "cicada"
local Base = cicada.user("Base", { abstract = true })
function Base:on_start() self.kind = "base" end
function Base:browse() self.client:get("/", { name = "base task" }) end
Base:task(3, Base.browse)
local Admin = cicada.user("Admin", { extends = Base, fixed_count = 1 })
Admin:task(1, function(self) assert(self.kind == "base"); self.client:get("/", { name = "admin task" }) end)
local Reader = cicada.user("Reader", { extends = Base, weight = 2 })
local Spike = cicada.user("Spike", { weight = 0 })
Spike:task(function(self) self.client:get("/", { name = "spike" }) end)
