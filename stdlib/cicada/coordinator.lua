-- cicada.coordinator: the coordinator's side of a script: setup and teardown, the coordinator
-- events, each run in a coroutine of its own with a context (a client for the default host).
-- Driven by the runtime through cicada.runtime; not part of the scripts' API.
local core = require "cicada.core"
local http = require "cicada.http"
local declarations = require "cicada.declarations"
local events = require "cicada.events"
local support = require "cicada.support"
local user_runtime = require "cicada.user_runtime"
support.register_module()

local capture_error, Captured = support.capture_error, support.Captured
local lifecycle, dispatch = declarations.lifecycle, events.dispatch
local end_task = core.end_task

local C = {}

function C.has_setup() return lifecycle.setup ~= nil end
function C.has_teardown() return lifecycle.teardown ~= nil end

--- A context for coordinator work (setup, teardown, events): a client for the first host.
function C.new_context(host)
  return { client = http.new_client(host), host = host, setup_data = user_runtime.setup_data() }
end

--- Runs coordinator work in its own coroutine. ctx.__action is "setup", "teardown" or an
-- event name; ctx.__arg its argument. Errors are returned in ctx.__error.
function C.run_coordinator_action(ctx)
  local action = ctx.__action
  local ok, result
  if action == "setup" then
    ok, result = xpcall(lifecycle.setup, capture_error, ctx)
    if ok then
      user_runtime.set_setup_data(result)
      ctx.setup_data = result
      ctx.__result = result
    end
  elseif action == "teardown" then
    ok, result = xpcall(lifecycle.teardown, capture_error, ctx, user_runtime.setup_data())
  else
    ok = true
    if ctx.__arg ~= nil then dispatch(action, ctx.__arg, ctx) else dispatch(action, ctx) end
  end
  end_task()
  if not ok then
    if getmetatable(result) == Captured then
      ctx.__error = result.message .. "\n" .. result.traceback
    else
      ctx.__error = tostring(result)
    end
  end
end

return C
