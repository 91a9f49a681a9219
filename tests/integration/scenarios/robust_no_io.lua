-- Tasks that never wait on anything, with a zero wait: one does nothing, one raises a new empty
-- table each time. The user must still give its thread's loop a turn at every task boundary,
-- so that -t and Ctrl-C stop it at once and its thread's numbers reach the report.
local cicada = require "cicada"

local Busy = cicada.user("Busy", { wait_time = cicada.constant(0) })
Busy:task(function(self) end)
Busy:task(function(self) error({}) end)
Busy:task(function(self) error({ code = 42, reason = "table error" }) end)
Busy:task(function(self) error(setmetatable({}, { __tostring = function() error("broken __tostring") end })) end)
