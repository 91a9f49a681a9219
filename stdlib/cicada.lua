-- cicada: the scenario DSL. A script starts with `local cicada = require "cicada"`.
--
-- The top-level code of a script runs once on the coordinator (which checks it and reads the
-- user classes) and once per worker thread. Each virtual user is a coroutine running
-- cicada.user_runtime's run_user; every call that waits (HTTP, sleep) suspends only that
-- coroutine. This table holds the scripts' API only; the modules under stdlib/cicada/ do the
-- work, and the runtime's hooks live in cicada.runtime.
local core = require "cicada.core"
local declarations = require "cicada.declarations"
local events = require "cicada.events"
local json = require "cicada.json"
local shapes = require "cicada.shapes"
local support = require "cicada.support"
local thresholds = require "cicada.thresholds"
require "cicada.runtime"  -- loaded with cicada, for the runtime to find

local M = { json = json, version = "0.1.0" }

-- Declarations: user classes, task sets, wait times, set-up, options, control flow.
M.user = declarations.user
M.taskset = declarations.taskset
M.sequence = declarations.sequence
M.between = declarations.between
M.constant = declarations.constant
M.constant_pacing = declarations.constant_pacing
M.constant_throughput = declarations.constant_throughput
M.url_encode = declarations.url_encode
M.setup = declarations.setup
M.teardown = declarations.teardown
M.options = declarations.options
M.stop_user = declarations.stop_user
M.stop_test = declarations.stop_test
M.STOP_USER = support.STOP_USER

M.on = events.on
M.shape = shapes.shape
M.stages = shapes.stages
M.thresholds = thresholds.thresholds

M.sleep = core.sleep
M.now = core.now
--- cicada.record{method=, name=, response_time=ms, length=, error=}: a custom sample.
M.record = core.record

return M
