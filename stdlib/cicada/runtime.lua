-- cicada.runtime: the functions the C++ runtime calls (runtime/script/script_host.cpp), kept
-- out of the scripts' `cicada` table. Loaded by stdlib/cicada.lua, so it exists whenever a
-- script has required cicada.
local coordinator = require "cicada.coordinator"
local declarations = require "cicada.declarations"
local events = require "cicada.events"
local shapes = require "cicada.shapes"
local support = require "cicada.support"
local thresholds = require "cicada.thresholds"
local user_runtime = require "cicada.user_runtime"
support.register_module()

return {
  -- users, on every worker thread (the scheduler's hooks)
  new_user = user_runtime.new_user,
  run_user = user_runtime.run_user,
  stop_user = user_runtime.stop_user,
  -- what the coordinator reads of the script
  configure = user_runtime.configure,
  classes = user_runtime.classes,
  task_ratio_report = user_runtime.task_ratio_report,
  task_ratios_json = user_runtime.task_ratios_json,
  script_options = function() return declarations.script_options end,
  script_thresholds = thresholds.script_thresholds,
  load_shape = shapes.load_shape,
  shape_tick = shapes.shape_tick,
  -- setup, teardown and events
  fire = events.dispatch,
  has_listeners = events.has_listeners,
  has_setup = coordinator.has_setup,
  has_teardown = coordinator.has_teardown,
  set_setup_data = user_runtime.set_setup_data,
  new_context = coordinator.new_context,
  run_coordinator_action = coordinator.run_coordinator_action,
}
