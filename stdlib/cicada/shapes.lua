-- cicada.shapes: the script's load shape, from cicada.shape (Locust's LoadTestShape) or
-- cicada.stages (k6's stages, of users or of an arrival rate), and its ticks on the coordinator.
local core = require "cicada.core"
local support = require "cicada.support"
support.register_module()

local fail, is_whole, script_level = support.fail, support.is_whole, support.script_level
local capture_error, Captured = support.capture_error, support.Captured

local L = {}

-- At most one per script: { kind = "shape", fn = f, where = "file:line" } from cicada.shape, or
-- from cicada.stages with users; { kind = "rate", stages = {...} } from cicada.stages with rate.
local load_shape = nil

local function set_load_shape(shape, what)
  if load_shape then
    fail(3, "%s: the script already declared a load shape at %s (one cicada.shape or cicada.stages per script)",
      what, load_shape.where)
  end
  local caller = debug.getinfo(script_level(), "Sl")
  shape.where = caller.short_src .. ":" .. (caller.currentline or 0)
  load_shape = shape
end

--- cicada.shape(function(run_time) return users, spawn_rate[, classes] end): Locust's
-- LoadTestShape. Called every second on the coordinator with the seconds since the test
-- started; the user count moves to `users` at `spawn_rate` per second (up or down), with only
-- the named classes when a list of class names is returned. Returning nil ends the test.
function L.shape(fn)
  if type(fn) ~= "function" then fail(2, "cicada.shape(fn): fn must be a function(run_time) returning users, spawn_rate") end
  set_load_shape({ kind = "shape", fn = fn }, "cicada.shape")
end

local stage_keys = { duration = true, users = true, spawn_rate = true, classes = true, rate = true }

--- cicada.stages{ {duration = "30s", users = 10, spawn_rate = 2}, ... }: a shape as a list of
-- stages, each lasting `duration` (one after the other, as in k6). With `users`, the user count
-- moves to `users` at `spawn_rate` (default: the rate that gets there by the stage's end), with
-- only `classes` if given. With `rate` instead, the arrival rate (the open model) ramps
-- linearly from the previous stage's rate (the first stage from --arrival-rate, or 0) to
-- `rate` over the stage. The test ends after the last stage.
function L.stages(list)
  local what = "cicada.stages"
  if type(list) ~= "table" or #list == 0 then
    fail(2, '%s{...}: expects a list of stages like { duration = "30s", users = 10, spawn_rate = 2 }', what)
  end
  local stages, kind = {}, nil
  for i, stage in ipairs(list) do
    local here = string.format("%s: stage %d", what, i)
    if type(stage) ~= "table" then fail(2, "%s must be a table", here) end
    for key in pairs(stage) do
      if not stage_keys[key] then
        fail(2, "%s: unknown key %q (known: duration, users, spawn_rate, classes, rate)", here, tostring(key))
      end
    end
    local duration = core.duration(stage.duration)
    if not duration then fail(2, '%s: duration must be a duration like "30s" or "1m", or seconds', here) end
    local this_kind = stage.rate ~= nil and "rate" or "users"
    if stage.rate ~= nil and (stage.users ~= nil or stage.spawn_rate ~= nil or stage.classes ~= nil) then
      fail(2, "%s: a stage sets either users (with spawn_rate, classes) or an arrival rate, not both", here)
    end
    if kind and kind ~= this_kind then
      fail(2, "%s: every stage must set users, or every stage an arrival rate (rate = ...)", here)
    end
    kind = this_kind
    local entry = { duration = duration }
    if kind == "rate" then
      entry.rate = core.rate(stage.rate)
      if not entry.rate then fail(2, '%s: rate must be iterations per second, like 100 or "6000/m"', here) end
    else
      if not is_whole(stage.users) then fail(2, "%s: users must be a whole number >= 0", here) end
      entry.users = stage.users
      if stage.spawn_rate ~= nil and (type(stage.spawn_rate) ~= "number" or stage.spawn_rate <= 0) then
        fail(2, "%s: spawn_rate must be a number > 0", here)
      end
      entry.spawn_rate = stage.spawn_rate
      if stage.classes ~= nil then
        if type(stage.classes) ~= "table" then fail(2, "%s: classes must be a list of user class names", here) end
        for _, name in ipairs(stage.classes) do
          if type(name) ~= "string" then fail(2, "%s: classes must be a list of user class names", here) end
        end
      end
      entry.classes = stage.classes
    end
    stages[i] = entry
  end
  if kind == "rate" then
    set_load_shape({ kind = "rate", stages = stages }, what)
    return
  end
  -- Without a spawn_rate, a stage ramps evenly over its duration (as k6's stages do); one that
  -- keeps the user count keeps the rate before it, so that nothing changes.
  local previous_users, previous_rate = 0, 1
  for _, stage in ipairs(stages) do
    if not stage.spawn_rate then
      local change = math.abs(stage.users - previous_users)
      stage.spawn_rate = change == 0 and previous_rate or (stage.duration > 0 and change / stage.duration or change)
    end
    previous_users, previous_rate = stage.users, stage.spawn_rate
  end
  set_load_shape({
    kind = "shape",
    fn = function(run_time)
      local stage_end = 0
      for _, stage in ipairs(stages) do
        stage_end = stage_end + stage.duration
        if run_time < stage_end then return stage.users, stage.spawn_rate, stage.classes end
      end
      return nil
    end,
  }, what)
end

--- The script's load shape for the coordinator: nil, { kind = "shape" } or
-- { kind = "rate", stages = { {duration =, rate =}, ... } }.
function L.load_shape()
  if not load_shape then return nil end
  return { kind = load_shape.kind, stages = load_shape.stages, where = load_shape.where }
end

--- One tick of the shape: true, users, spawn_rate, classes (or true alone when it ends the
-- test), or false and an error message.
function L.shape_tick(run_time)
  local fn, where = load_shape.fn, load_shape.where
  local ok, users, spawn_rate, class_names = xpcall(fn, capture_error, run_time)
  if not ok then
    local message = getmetatable(users) == Captured and (users.message .. "\n" .. users.traceback) or tostring(users)
    return false, "the load shape (" .. where .. ") failed: " .. message
  end
  if users == nil then return true end
  if not is_whole(users) or users > 10000000 then
    return false, string.format("the load shape (%s) returned users = %s; it must be a whole number from 0 to 10000000",
      where, tostring(users))
  end
  if type(spawn_rate) ~= "number" or not (spawn_rate > 0) or spawn_rate == math.huge then
    return false, string.format("the load shape (%s) returned spawn_rate = %s; it must be a number > 0", where,
      tostring(spawn_rate))
  end
  if class_names ~= nil and type(class_names) ~= "table" then
    return false, string.format("the load shape (%s) returned classes = %s; it must be a list of class names", where,
      tostring(class_names))
  end
  return true, users, spawn_rate, class_names
end

return L
