-- cicada.thresholds: pass/fail criteria for the run (docs/reports.md). Declared here, checked
-- and evaluated by the runtime; a malformed one stops the run before any traffic.
local support = require "cicada.support"
support.register_module()

local fail, script_level = support.fail, support.script_level

local T = {}

local thresholds = {}  -- key ("GET /items p95") -> { key=, conditions=, abort_on_fail=, delay=, where= }
local threshold_options = { abort_on_fail = true, delay = true }

--- cicada.thresholds{ p95 = "<100ms", error_rate = "<1%", ["GET /items p99"] = "<200ms",
--   ["p99"] = { "<500ms", abort_on_fail = true, delay = "10s" } }: the key is a metric with an
-- optional entry before it, the value one condition or a list of them with options. A later
-- call with the same key replaces the earlier one.
function T.thresholds(spec)
  if type(spec) ~= "table" then fail(2, 'cicada.thresholds{...}: expects a table like { p95 = "<100ms" }') end
  local caller = debug.getinfo(script_level(), "Sl")
  local where = caller.short_src .. ":" .. (caller.currentline or 0)
  for key, value in pairs(spec) do
    if type(key) ~= "string" then
      fail(2, 'cicada.thresholds: keys are metrics like "p95" or "GET /items p99", got %s', tostring(key))
    end
    local what = string.format("cicada.thresholds: [%q]", key)
    local entry = { key = key, conditions = {}, abort_on_fail = false, where = where }
    if type(value) == "string" then
      entry.conditions[1] = value
    elseif type(value) == "table" then
      for k, v in pairs(value) do
        if type(k) == "number" then
          if type(v) ~= "string" then fail(2, '%s: conditions are strings like "<100ms"', what) end
        elseif not threshold_options[k] then
          fail(2, "%s: unknown option %q (known: abort_on_fail, delay)", what, tostring(k))
        end
      end
      for i, condition in ipairs(value) do entry.conditions[i] = condition end
      if #entry.conditions == 0 then fail(2, '%s: give at least one condition, like { "<100ms" }', what) end
      if value.abort_on_fail ~= nil and type(value.abort_on_fail) ~= "boolean" then
        fail(2, "%s: abort_on_fail must be true or false", what)
      end
      entry.abort_on_fail = value.abort_on_fail == true
      if value.delay ~= nil then
        if not entry.abort_on_fail then fail(2, "%s: delay only applies with abort_on_fail = true", what) end
        if type(value.delay) ~= "string" and type(value.delay) ~= "number" then
          fail(2, '%s: delay must be a duration like "10s" or seconds', what)
        end
        entry.delay = tostring(value.delay)
      end
    else
      fail(2, '%s: expects a condition like "<100ms" or a table { "<100ms", abort_on_fail = true }', what)
    end
    thresholds[key] = entry
  end
end

--- cicada.thresholds{} as a list sorted by key, for the runtime to parse and evaluate.
function T.script_thresholds()
  local list = {}
  for _, entry in pairs(thresholds) do list[#list + 1] = entry end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

return T
