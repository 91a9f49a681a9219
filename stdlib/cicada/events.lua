-- cicada.events: the script's listeners (cicada.on) and their dispatch. Coordinator events run
-- once per process, the others on the worker thread that saw them (docs/scenarios.md).
local core = require "cicada.core"
local support = require "cicada.support"
support.register_module()

local fail, capture_error, Captured = support.fail, support.capture_error, support.Captured

local E = {}

local listeners = {}  -- event -> { fn, ... }

-- Coordinator events run once per process; the others on the worker thread that saw them.
local coordinator_events = {
  test_start = true, test_stopping = true, test_stop = true, spawning_complete = true, reset_stats = true,
  quitting = true,
}
local worker_events = { request = true, request_failure = true, user_error = true }

function E.dispatch(event, ...)
  local list = listeners[event]
  if not list then return end
  for _, fn in ipairs(list) do
    local ok, err = xpcall(fn, capture_error, ...)
    if not ok and getmetatable(err) == Captured then
      core.exception(err.message, err.traceback)
    end
  end
end

local function request_dispatcher(info) E.dispatch("request", info) end
local function failure_dispatcher(request, response, err) E.dispatch("request_failure", request, response, err) end

--- cicada.on(event, fn): listen to an event. See docs/scenarios.md for where each runs.
function E.on(event, fn)
  if type(event) ~= "string" or not (coordinator_events[event] or worker_events[event] or event == "init") then
    local known = {}
    for name in pairs(coordinator_events) do known[#known + 1] = name end
    for name in pairs(worker_events) do known[#known + 1] = name end
    known[#known + 1] = "init"
    table.sort(known)
    fail(2, "cicada.on(event, fn): unknown event %q (known: %s)", tostring(event), table.concat(known, ", "))
  end
  if type(fn) ~= "function" then fail(2, "cicada.on(%q, fn): fn must be a function", event) end
  listeners[event] = listeners[event] or {}
  table.insert(listeners[event], fn)
  if event == "request" or event == "request_failure" then
    core.set_listeners(listeners.request and request_dispatcher or nil,
      listeners.request_failure and failure_dispatcher or nil)
  end
  return fn
end

function E.has_listeners(event) return listeners[event] ~= nil end

return E
