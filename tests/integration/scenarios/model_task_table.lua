-- Tasks given as data, Locust's `tasks = {...}` attribute.
local cicada = require "cicada"
local function view(self) self.client:get("/", { name = "view" }) end
local function buy(self) self.client:get("/", { name = "buy" }) end
cicada.user("Weighted", { tasks = { [view] = 3, [buy] = 1 } })
local function first(self) self.client:get("/", { name = "first" }) end
local function second(self) self.client:get("/", { name = "second" }) end
cicada.user("Listed", { tasks = { first, second } })
