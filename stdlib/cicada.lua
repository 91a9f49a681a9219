-- cicada: the scenario DSL. A script starts with `local cicada = require "cicada"`.
--
-- The top-level code of a script runs once on the coordinator (which checks it and reads the
-- user classes) and once per worker thread. Each virtual user is a coroutine running
-- run_user() below; every call that waits (HTTP, sleep) suspends only that coroutine.
local core = require "cicada.core"
local http = require "cicada.http"
local json = require "cicada.json"

local M = { json = json, version = "0.1.0" }

local unpack = unpack or table.unpack

-- ---------------------------------------------------------------------------------------
-- Declarations

local classes = {}                                      -- user classes, in declaration order
local class_info = setmetatable({}, { __mode = "k" })   -- class -> info
local taskset_info = setmetatable({}, { __mode = "k" }) -- task set class -> info
local listeners = {}                                    -- event -> { fn, ... }
local lifecycle = {}                                    -- setup / teardown functions
local script_options = {}
local configuration = { tags = nil, exclude_tags = nil }
local compiled_classes = nil                            -- runnable classes after tag filtering
local setup_data = nil

local this_source = debug.getinfo(1, "S").source

-- The stack level (as seen by the caller of this function) of the script code that called
-- into this module, however deep inside it we are (tail calls included).
local function script_level()
  local level = 3
  while true do
    local info = debug.getinfo(level, "S")
    if not info then return 2 end
    if info.source ~= this_source and info.what ~= "C" then return level - 1 end
    level = level + 1
  end
end

-- Raises a misuse error pointing at the script line that called into this module.
local function fail(_, message, ...)
  error(string.format(message, ...), script_level())
end

local function is_whole(n)
  return type(n) == "number" and n >= 0 and n == math.floor(n) and n < math.huge
end

local function where(fn)
  local info = debug.getinfo(fn, "S")
  return info.short_src:match("[^/]*$") .. ":" .. (info.linedefined or 0)
end

local function tag_set(tags, what)
  if tags == nil then return {} end
  if type(tags) == "string" then tags = { tags } end
  if type(tags) ~= "table" then fail(3, "%s: tags must be a list of strings", what) end
  local set = {}
  for _, tag in ipairs(tags) do
    if type(tag) ~= "string" or tag == "" then fail(3, "%s: tags must be non-empty strings", what) end
    set[tag] = true
  end
  return set
end

local function is_taskset(value)
  return type(value) == "table" and taskset_info[value] ~= nil
end

-- The name of the script's local variable holding `value` (`local function browse(self)`), so
-- reports can call a task by the name the author gave it.
local function local_name_in_script(value)
  local level = script_level()
  if not debug.getinfo(level, "S") then return nil end
  for i = 1, 200 do
    local name, v = debug.getlocal(level, i)
    if name == nil then break end
    if v == value and name:sub(1, 1) ~= "(" then return name end
  end
  return nil
end

-- A task entry: { run = function or task set class, weight = n, name = string|nil, tags = set }.
local function make_entry(run, weight, opts, what)
  if type(run) ~= "function" and not is_taskset(run) then
    fail(3, "%s: a task must be a function or a task set (cicada.taskset / cicada.sequence)", what)
  end
  if not is_whole(weight) then fail(3, "%s: task weight must be a whole number >= 0", what) end
  opts = opts or {}
  if type(opts) ~= "table" then fail(3, "%s: task options must be a table", what) end
  for key in pairs(opts) do
    if key ~= "tags" and key ~= "name" then fail(3, "%s: unknown task option %q (known: tags, name)", what, tostring(key)) end
  end
  if opts.name ~= nil and type(opts.name) ~= "string" then fail(3, "%s: task name must be a string", what) end
  local name = opts.name
  if name == nil and type(run) == "function" then name = local_name_in_script(run) end
  return { run = run, weight = weight, name = name, tags = tag_set(opts.tags, what) }
end

-- Tasks given as data: a list ({fn1, fn2} or entries {fn=, weight=, tags=, name=}), or a map
-- {[fn1] = 3, [fn2] = 1} like Locust's `tasks = {...}`.
local function parse_tasks(spec, what)
  local entries = {}
  if spec == nil then return entries end
  if type(spec) ~= "table" then fail(3, "%s: tasks must be a list or a {[fn] = weight} table", what) end
  if #spec > 0 then
    for _, item in ipairs(spec) do
      if type(item) == "table" and not is_taskset(item) then
        local run = item.fn or item.taskset or item[1]
        entries[#entries + 1] = make_entry(run, item.weight == nil and 1 or item.weight,
          { tags = item.tags, name = item.name }, what)
      else
        entries[#entries + 1] = make_entry(item, 1, nil, what)
      end
    end
  else
    local keyed = {}
    for run, weight in pairs(spec) do keyed[#keyed + 1] = { run = run, weight = weight } end
    -- pairs() order is arbitrary; sort for a stable task list (names, ratios, sequences).
    table.sort(keyed, function(a, b) return tostring(a.run) < tostring(b.run) end)
    for _, k in ipairs(keyed) do entries[#entries + 1] = make_entry(k.run, k.weight, nil, what) end
  end
  return entries
end

-- `Owner:task(fn)`, `:task(weight, fn)`, `:task(weight, {tags=, name=}, fn)`, `:task({..}, fn)`.
local function add_task(owner_name, tasks, a, b, c)
  local what = owner_name .. ":task()"
  local weight, opts, run
  if c ~= nil then
    weight, opts, run = a, b, c
  elseif b ~= nil then
    if type(a) == "table" and not is_taskset(a) then opts, run, weight = a, b, 1 else weight, run = a, b end
  else
    weight, run = 1, a
  end
  local entry = make_entry(run, weight, opts, what)
  tasks[#tasks + 1] = entry
  return run
end

-- Methods every user class has (and, through it, every user).
local UserClass = {}

function UserClass:task(a, b, c)
  local info = class_info[self]
  if not info then fail(2, "task() must be called on a user class, with a colon: User:task(weight, fn)") end
  return add_task(info.name, info.tasks, a, b, c)
end

local user_options = {
  weight = true, fixed_count = true, abstract = true, host = true, wait_time = true, tasks = true, extends = true,
  client = true,
}

local function check_wait_time(wait_time, what)
  if wait_time ~= nil and type(wait_time) ~= "function" and type(wait_time) ~= "number" then
    fail(3, "%s: wait_time must be a function (cicada.between, cicada.constant, ...) or seconds", what)
  end
end

--- cicada.user(name, {weight=, fixed_count=, abstract=, host=, wait_time=, tasks=, extends=})
-- returns a user class. Methods defined on it (`function Shopper:on_start() ... end`) become
-- the users' methods; `extends` inherits another class's methods and tasks.
function M.user(name, opts)
  if type(name) ~= "string" or name == "" then fail(2, "cicada.user(name, opts): name must be a non-empty string") end
  opts = opts or {}
  if type(opts) ~= "table" then fail(2, "cicada.user(%q, opts): opts must be a table", name) end
  local what = string.format("cicada.user(%q)", name)
  for key in pairs(opts) do
    if not user_options[key] then
      fail(2, "%s: unknown option %q (known: weight, fixed_count, abstract, host, wait_time, tasks, extends, client)",
        what, tostring(key))
    end
  end
  for _, existing in ipairs(classes) do
    if class_info[existing].name == name then fail(2, "user class %q is defined twice", name) end
  end
  local weight = opts.weight == nil and 1 or opts.weight
  if not is_whole(weight) then fail(2, "%s: weight must be a whole number >= 0", what) end
  local fixed_count = opts.fixed_count or 0
  if not is_whole(fixed_count) then fail(2, "%s: fixed_count must be a whole number >= 0", what) end
  check_wait_time(opts.wait_time, what)
  if opts.host ~= nil and type(opts.host) ~= "string" then fail(2, "%s: host must be a string", what) end
  if opts.client ~= nil then
    if type(opts.client) ~= "table" then
      fail(2, "%s: client must be a table of HTTP client settings (timeout, verify, pool, ...)", what)
    end
    local valid, problem = pcall(http.new_client, nil, opts.client)
    if not valid then fail(2, "%s: client: %s", what, tostring(problem)) end
  end
  local base = opts.extends
  if base ~= nil and not class_info[base] then fail(2, "%s: extends must be another user class", what) end

  local class = setmetatable({}, {
    __index = base or UserClass,
    __tostring = function() return "cicada.user(" .. name .. ")" end,
  })
  class.__index = class
  if opts.wait_time ~= nil then class.wait_time = opts.wait_time end
  if opts.host ~= nil then class.host = opts.host end
  if opts.client ~= nil then class.client_options = opts.client end
  class_info[class] = {
    name = name, weight = weight, fixed_count = fixed_count, abstract = opts.abstract and true or false,
    tasks = parse_tasks(opts.tasks, what), base = base,
  }
  classes[#classes + 1] = class
  return class
end

-- Task sets ------------------------------------------------------------------------------

local TaskSetClass = {}

function TaskSetClass:task(a, b, c)
  local info = taskset_info[self]
  if not info then fail(2, "task() must be called on a task set, with a colon: Set:task(weight, fn)") end
  return add_task(info.name, info.tasks, a, b, c)
end

local Interrupt = {}  -- metatable marking an interrupt signal
Interrupt.__tostring = function() return "task set interrupted outside a task set" end

--- self:interrupt(reschedule): leave this task set and return to its parent. With reschedule
-- (the default) the parent picks its next task at once; otherwise it waits first.
function TaskSetClass:interrupt(reschedule)
  error(setmetatable({ reschedule = reschedule ~= false }, Interrupt), 0)
end

local taskset_options = { name = true, tasks = true, on_start = true, on_stop = true, wait_time = true, tags = true }

local function new_taskset(kind, spec, level)
  spec = spec or {}
  if type(spec) ~= "table" then fail(level, "cicada.%s{...}: expects a table", kind) end
  -- cicada.sequence{ fn1, fn2 } is shorthand for cicada.sequence{ tasks = { fn1, fn2 } }.
  if #spec > 0 and spec.tasks == nil then
    local copy = { tasks = {} }
    for k, v in pairs(spec) do
      if type(k) == "number" then copy.tasks[k] = v else copy[k] = v end
    end
    spec = copy
  end
  for key in pairs(spec) do
    if not taskset_options[key] then
      fail(level, "cicada.%s: unknown option %q (known: name, tasks, on_start, on_stop, wait_time, tags)", kind,
        tostring(key))
    end
  end
  local caller = debug.getinfo(script_level(), "Sl")
  local name = spec.name or string.format("%s@%s:%d", kind == "sequence" and "Sequence" or "TaskSet", caller.short_src,
    caller.currentline)
  local what = string.format("cicada.%s(%q)", kind, name)
  check_wait_time(spec.wait_time, what)
  for _, hook in ipairs({ "on_start", "on_stop" }) do
    if spec[hook] ~= nil and type(spec[hook]) ~= "function" then fail(level, "%s: %s must be a function", what, hook) end
  end
  local set = setmetatable({}, {
    __index = TaskSetClass,
    __tostring = function() return what end,
  })
  set.__index = set
  set.on_start, set.on_stop, set.wait_time = spec.on_start, spec.on_stop, spec.wait_time
  taskset_info[set] = {
    name = name, tasks = parse_tasks(spec.tasks, what), sequential = kind == "sequence",
    tags = tag_set(spec.tags, what),
  }
  return set
end

--- cicada.taskset{name=, tasks=, on_start=, on_stop=, wait_time=, tags=}: a group of tasks a
-- user enters when the set is picked as a task, and stays in until self:interrupt().
function M.taskset(spec) return new_taskset("taskset", spec, 3) end

--- cicada.sequence{fn1, fn2, ...}: a task set that runs its tasks in order, over and over.
function M.sequence(spec) return new_taskset("sequence", spec, 3) end

-- Wait times -------------------------------------------------------------------------------

function M.between(min_s, max_s)
  if type(min_s) ~= "number" or type(max_s) ~= "number" or min_s < 0 or max_s < min_s then
    fail(2, "cicada.between(min, max): need 0 <= min <= max (seconds)")
  end
  return function() return min_s + math.random() * (max_s - min_s) end
end

function M.constant(seconds)
  if type(seconds) ~= "number" or seconds < 0 then fail(2, "cicada.constant(seconds): need a number >= 0") end
  return function() return seconds end
end

--- Waits so that tasks start every `seconds` at most: wait = max(0, seconds - task time).
function M.constant_pacing(seconds)
  if type(seconds) ~= "number" or seconds < 0 then fail(2, "cicada.constant_pacing(seconds): need a number >= 0") end
  return function(self)
    local now = core.now()
    local last_run = rawget(self, "__pacing_last_run")
    local wait
    if last_run == nil then
      wait = seconds
    else
      local run_time = now - last_run - rawget(self, "__pacing_last_wait")
      wait = math.max(0, seconds - run_time)
    end
    rawset(self, "__pacing_last_run", now)
    rawset(self, "__pacing_last_wait", wait)
    return wait
  end
end

--- At most `per_second` task runs per second for each user.
function M.constant_throughput(per_second)
  if type(per_second) ~= "number" or per_second <= 0 then fail(2, "cicada.constant_throughput(n): need n > 0") end
  return M.constant_pacing(1 / per_second)
end

M.sleep = core.sleep
M.now = core.now

--- cicada.url_encode("Blade Runner") == "Blade%20Runner": for building paths and queries.
function M.url_encode(text)
  return (tostring(text):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- Events -----------------------------------------------------------------------------------

-- Coordinator events run once per process; the others on the worker thread that saw them.
local coordinator_events = {
  test_start = true, test_stopping = true, test_stop = true, spawning_complete = true, reset_stats = true,
  quitting = true,
}
local worker_events = { request = true, request_failure = true, user_error = true }

local Captured = {}  -- metatable of an error caught with its traceback

-- The text an error object is counted under. Exceptions are keyed by it, so it must not hold
-- what differs between two raises of the same error: a table is shown by its contents (not
-- its address), a function or userdata by its type; a __tostring that fails gives a fixed text.
local function short_value(value)
  if type(value) == "string" then return string.format("%q", #value > 60 and value:sub(1, 60) .. "..." or value) end
  if type(value) == "number" or type(value) == "boolean" then return tostring(value) end
  return type(value)
end

local function error_text(err)
  local kind = type(err)
  if kind == "string" then return err end
  if kind == "number" or kind == "boolean" or kind == "nil" then return tostring(err) end
  local mt = getmetatable(err)
  if type(mt) == "table" and mt.__tostring ~= nil then
    local ok, text = pcall(tostring, err)
    if ok and type(text) == "string" then return text end
    return "(" .. kind .. " error object whose __tostring failed: " .. tostring(ok and type(text) or text) .. ")"
  end
  if kind ~= "table" then return "(" .. kind .. " error object)" end
  local keys = {}
  for key in pairs(err) do keys[#keys + 1] = key end
  if #keys == 0 then return "(empty table error object)" end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for i, key in ipairs(keys) do
    if i > 8 then
      parts[#parts + 1] = "..."
      break
    end
    local name = type(key) == "string" and key:match("^[%a_][%w_]*$") and key or "[" .. short_value(key) .. "]"
    parts[#parts + 1] = name .. " = " .. short_value(err[key])
  end
  return "(table error object) {" .. table.concat(parts, ", ") .. "}"
end

local function capture_error(err)
  if getmetatable(err) == Interrupt or err == M.STOP_USER then return err end
  local traceback = debug.traceback("", 2)
  -- Drop the frames of this file below the task: they are the same for every error.
  local cut = traceback:find("\n%s*%[C%]: in function 'xpcall'")
  if cut then traceback = traceback:sub(1, cut - 1) end
  traceback = traceback:gsub("^\n", "")
  return setmetatable({ message = error_text(err), traceback = traceback }, Captured)
end

local function dispatch(event, ...)
  local list = listeners[event]
  if not list then return end
  for _, fn in ipairs(list) do
    local ok, err = xpcall(fn, capture_error, ...)
    if not ok and getmetatable(err) == Captured then
      core.exception(err.message, err.traceback)
    end
  end
end

local function request_dispatcher(info) dispatch("request", info) end
local function failure_dispatcher(request, response, err) dispatch("request_failure", request, response, err) end

--- cicada.on(event, fn): listen to an event. See docs/scenarios.md for where each runs.
function M.on(event, fn)
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

-- Set-up, options, control flow -----------------------------------------------------------

--- cicada.setup(fn): fn(ctx) runs once on the coordinator before users start; what it
-- returns (plain values and tables) becomes self.setup_data of every user.
function M.setup(fn)
  if type(fn) ~= "function" then fail(2, "cicada.setup(fn): fn must be a function") end
  lifecycle.setup = fn
end

--- cicada.teardown(fn): fn(ctx, setup_data) runs once on the coordinator after users stop.
function M.teardown(fn)
  if type(fn) ~= "function" then fail(2, "cicada.teardown(fn): fn must be a function") end
  lifecycle.teardown = fn
end

-- What each option of cicada.options{} takes, from the option table of the runtime
-- (runtime/config/option_table.cpp): "duration" and "rate" are strings ("30s", "500/s") or plain
-- numbers (seconds, per second).
local option_names = core.option_types()

--- cicada.options{host=, users=, spawn_rate=, run_time=, ...}: defaults for the command line
-- options; a config file, CICADA_* variables and the command line override them.
function M.options(opts)
  if type(opts) ~= "table" then fail(2, "cicada.options{...}: expects a table") end
  for key, value in pairs(opts) do
    local expected = option_names[key]
    if not expected then
      local known = {}
      for name in pairs(option_names) do known[#known + 1] = name end
      table.sort(known)
      fail(2, "cicada.options: unknown option %q (known: %s)", tostring(key), table.concat(known, ", "))
    end
    if expected == "duration" or expected == "rate" then
      if type(value) ~= "string" and type(value) ~= "number" then
        fail(2, "cicada.options: %s must be a string like %q or a number", key,
          expected == "rate" and "500/s" or "30s")
      end
      value = tostring(value)
      expected = "string"
    end
    if type(value) == "string" and (key == "tags" or key == "exclude_tags") then value = { value } end
    if type(value) ~= expected then fail(2, "cicada.options: %s must be a %s", key, expected) end
    script_options[key] = value
  end
end

-- Load shapes -------------------------------------------------------------------------------

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
function M.shape(fn)
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
function M.stages(list)
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
function M._load_shape()
  if not load_shape then return nil end
  return { kind = load_shape.kind, stages = load_shape.stages, where = load_shape.where }
end

--- One tick of the shape: true, users, spawn_rate, classes (or true alone when it ends the
-- test), or false and an error message.
function M._shape_tick(run_time)
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

M.STOP_USER = setmetatable({}, { __tostring = function() return "cicada.stop_user() outside a user" end })

--- cicada.stop_user(): ends the calling user (its on_stop runs) as Locust's StopUser does.
function M.stop_user()
  error(M.STOP_USER, 0)
end

--- cicada.stop_test(reason): stops the whole test, as if its run time were over.
function M.stop_test(reason)
  core.stop_test(reason and tostring(reason) or "cicada.stop_test() called")
  if not core.is_coordinator() then core.park() end
end

--- cicada.record{method=, name=, response_time=ms, length=, error=}: a custom sample.
M.record = core.record

-- ---------------------------------------------------------------------------------------
-- Thresholds: pass/fail criteria for the run (docs/reports.md). Declared here, checked and
-- evaluated by the runtime; a malformed one stops the run before any traffic.

local thresholds = {}  -- key ("GET /items p95") -> { key=, conditions=, abort_on_fail=, delay=, where= }
local threshold_options = { abort_on_fail = true, delay = true }

--- cicada.thresholds{ p95 = "<100ms", error_rate = "<1%", ["GET /items p99"] = "<200ms",
--   ["p99"] = { "<500ms", abort_on_fail = true, delay = "10s" } }: the key is a metric with an
-- optional entry before it, the value one condition or a list of them with options. A later
-- call with the same key replaces the earlier one.
function M.thresholds(spec)
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

-- ---------------------------------------------------------------------------------------
-- Compilation: tasks of every runnable class after tag filtering

local function selected_by_tags(tags)
  local exclude, include = configuration.exclude_tags, configuration.tags
  if exclude then
    for tag in pairs(tags) do if exclude[tag] then return false end end
  end
  if include then
    for tag in pairs(tags) do if include[tag] then return true end end
    return false
  end
  return true
end

local function union(a, b)
  local out = {}
  for k in pairs(a) do out[k] = true end
  for k in pairs(b) do out[k] = true end
  return out
end

-- A task's display name: its own, the field of the class that holds it, or where it is defined.
local function task_name(run, owners)
  for _, owner in ipairs(owners) do
    local scan = owner
    while type(scan) == "table" do
      for key, value in pairs(scan) do
        if value == run and type(key) == "string" then return key end
      end
      local mt = getmetatable(scan)
      scan = mt and mt.__index
      if scan == UserClass or scan == TaskSetClass then break end
    end
  end
  return where(run)
end

local compile_entries

local function compile_taskset(set, inherited, owners, visiting)
  if visiting[set] then fail(1, "task set %q contains itself", taskset_info[set].name) end
  visiting[set] = true
  local info = taskset_info[set]
  local entries = compile_entries(info.tasks, union(inherited, info.tags), { set, unpack(owners) }, visiting)
  visiting[set] = nil
  if #entries == 0 then return nil end
  local total = 0
  for _, e in ipairs(entries) do total = total + e.weight end
  return { class = set, name = info.name, entries = entries, total = total, sequential = info.sequential }
end

function compile_entries(raw, inherited, owners, visiting)
  local out = {}
  for _, entry in ipairs(raw) do
    if entry.weight > 0 then
      local tags = union(inherited, entry.tags)
      if is_taskset(entry.run) then
        local set = compile_taskset(entry.run, tags, owners, visiting)
        if set then out[#out + 1] = { weight = entry.weight, name = entry.name or set.name, taskset = set } end
      elseif selected_by_tags(tags) then
        out[#out + 1] = { weight = entry.weight, name = entry.name or task_name(entry.run, owners), fn = entry.run }
      end
    end
  end
  return out
end

-- A class's tasks: its base's, then its own (as Locust collects @task methods along the MRO).
local function declared_tasks(class)
  local info = class_info[class]
  local all = {}
  if info.base then
    for _, e in ipairs(declared_tasks(info.base)) do all[#all + 1] = e end
  end
  for _, e in ipairs(info.tasks) do all[#all + 1] = e end
  return all
end

local function compile()
  if compiled_classes then return compiled_classes end
  compiled_classes = {}
  for _, class in ipairs(classes) do
    local info = class_info[class]
    if not info.abstract then
      local declared = declared_tasks(class)
      local entries = compile_entries(declared, {}, { class }, {})
      local total = 0
      for _, e in ipairs(entries) do total = total + e.weight end
      compiled_classes[#compiled_classes + 1] = {
        class = class, name = info.name, weight = info.weight, fixed_count = info.fixed_count,
        entries = entries, total = total, declared = #declared,
      }
    end
  end
  return compiled_classes
end

-- ---------------------------------------------------------------------------------------
-- Running users (driven by the runtime; names starting with _ are not part of the API)

local function report(captured, user)
  core.exception(captured.message, captured.traceback)
  dispatch("user_error", user, captured.message, captured.traceback)
end

local function picker(compiled)
  local entries, total = compiled.entries, compiled.total
  if compiled.sequential then
    local index = 0
    return function()
      index = index % #entries + 1
      return entries[index]
    end
  end
  if #entries == 1 then
    local only = entries[1]
    return function() return only end
  end
  local random = math.random
  return function()
    local r = random() * total
    for i = 1, #entries do
      r = r - entries[i].weight
      if r < 0 then return entries[i] end
    end
    return entries[#entries]
  end
end

local function waiter(owner)
  local wait_time = owner.wait_time
  -- In the open model the arrival schedule paces the iterations: a user serves the next one
  -- as soon as it is free.
  if wait_time == nil or core.open_model() then return nil end
  if type(wait_time) == "number" then
    return function() return wait_time end
  end
  return function(self)
    local seconds = wait_time(self)
    if type(seconds) ~= "number" or seconds ~= seconds or seconds < 0 then
      error("wait_time returned " .. tostring(seconds) .. "; it must return seconds >= 0", 0)
    end
    return seconds
  end
end

local begin_iteration, end_task, task_boundary, sleep = core.begin_iteration, core.end_task, core.task_boundary,
  core.sleep

local run_taskset
local shared_picker

-- Runs one picked entry for `target` (the user or a task set instance). Returns true when the
-- next task should start at once (a task set interrupted itself with reschedule).
local function run_entry(entry, target, user)
  if entry.taskset then return run_taskset(entry.taskset, target, user) end
  -- Parks here for good once an --iterations budget is used up; in the open model, waits here
  -- for the arrival schedule. False: --iterations-per-user is reached, the user ends.
  if not begin_iteration(entry.name) then error(M.STOP_USER, 0) end
  local ok, err = xpcall(entry.fn, capture_error, target)
  local go_on = task_boundary()  -- end_task; a user that did no I/O since the last one gives the loop a turn
  if not ok then
    if err == M.STOP_USER or getmetatable(err) == Interrupt then error(err, 0) end
    report(err, user)
  end
  if not go_on then error(M.STOP_USER, 0) end  -- stopped while the task ran (--stop-timeout)
  return false
end

local function wait_after(wait, self)
  if wait then
    local seconds = wait(self)
    if seconds > 0 then sleep(seconds) end
  end
end

function run_taskset(compiled, parent, user)
  local set = setmetatable({ user = user, parent = parent, client = user.client, setup_data = user.setup_data },
    compiled.class)
  local stack = user.__tasksets
  if not stack then
    stack = {}
    user.__tasksets = stack
  end
  stack[#stack + 1] = set
  local ok, err = pcall(function()
    if set.on_start then
      local started, start_err = xpcall(set.on_start, capture_error, set)
      if not started then
        if start_err == M.STOP_USER or getmetatable(start_err) == Interrupt then error(start_err, 0) end
        report(start_err, user)
        set:interrupt(false)
      end
    end
    local next_entry = compiled.sequential and picker(compiled) or shared_picker(compiled)
    local wait = waiter(set) or waiter(user)
    while true do
      if not run_entry(next_entry(), set, user) then wait_after(wait, set) end
    end
  end)
  if getmetatable(err) ~= Interrupt then error(err, 0) end  -- stopping: the stop chain ends it
  stack[#stack] = nil
  if set.on_stop then
    local stopped, stop_err = xpcall(set.on_stop, capture_error, set)
    if not stopped then
      if stop_err == M.STOP_USER then error(stop_err, 0) end
      if getmetatable(stop_err) == Captured then report(stop_err, user) end
    end
  end
  return err.reschedule
end

-- on_stop of the task sets the user is in (innermost first), then of the user.
local function stop_chain(user)
  local stack = user.__tasksets or {}
  for i = #stack, 1, -1 do
    local set = stack[i]
    stack[i] = nil
    if set.on_stop then
      local ok, err = xpcall(set.on_stop, capture_error, set)
      if not ok and getmetatable(err) == Captured then report(err, user) end
    end
  end
  if user.on_stop then
    local ok, err = xpcall(user.on_stop, capture_error, user)
    if not ok and getmetatable(err) == Captured then report(err, user) end
  end
  end_task()
end

function M._new_user(class_index, user_id)
  local compiled = compile()[class_index]
  local user = setmetatable({}, compiled.class)
  user.user_id = user_id
  user.setup_data = setup_data
  user.client = http.new_client(core.host_override() or compiled.class.host, compiled.class.client_options)
  return user
end

-- What every user of a class shares (the task picker, the wait), made once per class rather
-- than once per user: with ten thousand users, per-user closures are megabytes.
local function class_loop(compiled)
  if not compiled.loop then
    compiled.loop = { next_entry = picker(compiled), wait = waiter(compiled.class) }
  end
  return compiled.loop
end

function shared_picker(compiled)
  if not compiled.shared_pick then compiled.shared_pick = picker(compiled) end
  return compiled.shared_pick
end

local function user_main(user, compiled)
  if user.on_start then
    local started, start_err = xpcall(user.on_start, capture_error, user)
    end_task()
    if not started then
      if start_err == M.STOP_USER then error(start_err, 0) end
      report(start_err, user)
      return -- a user whose on_start failed has no state to run tasks with
    end
  end
  local shared = class_loop(compiled)
  local next_entry = compiled.sequential and picker(compiled) or shared.next_entry
  -- A wait_time set on the user itself (in on_start, say) wins over the class's.
  local wait = rawget(user, "wait_time") ~= nil and waiter(user) or shared.wait
  while true do
    if not run_entry(next_entry(), user, user) then wait_after(wait, user) end
  end
end

--- A user's life: on_start, then tasks until the test stops it. Errors in a task are counted
-- as exceptions and the user goes on with its next task, as in Locust.
function M._run_user(user)
  local compiled = compile()
  local class = getmetatable(user)
  for _, c in ipairs(compiled) do
    if c.class == class then compiled = c break end
  end
  local ok, err = xpcall(user_main, capture_error, user, compiled)
  if ok then return end
  if err == M.STOP_USER then
    stop_chain(user)
  elseif getmetatable(err) == Interrupt then
    core.exception("self:interrupt() called outside a task set", "")
  else
    report(err, user)  -- e.g. a wait_time function that failed: the user ends
  end
end

function M._stop_user(user)
  stop_chain(user)
end

-- ---------------------------------------------------------------------------------------
-- Coordinator side and configuration

--- _configure{tags = {..}|nil, exclude_tags = {..}|nil}: the resolved options that shape tasks.
function M._configure(config)
  local function to_set(list)
    if not list or #list == 0 then return nil end
    local set = {}
    for _, tag in ipairs(list) do set[tag] = true end
    return set
  end
  configuration.tags = to_set(config.tags)
  configuration.exclude_tags = to_set(config.exclude_tags)
  compiled_classes = nil
end

function M._script_options()
  return script_options
end

--- cicada.thresholds{} as a list sorted by key, for the runtime to parse and evaluate.
function M._script_thresholds()
  local list = {}
  for _, entry in pairs(thresholds) do list[#list + 1] = entry end
  table.sort(list, function(a, b) return a.key < b.key end)
  return list
end

--- The runnable user classes: { {name=, weight=, fixed_count=, host=, tasks=, declared=}, ... }.
function M._classes()
  local list = {}
  for i, c in ipairs(compile()) do
    list[i] = {
      name = c.name, weight = c.weight, fixed_count = c.fixed_count, host = c.class.host, tasks = #c.entries,
      declared = c.declared,
    }
  end
  return list
end

--- Locust's --show-task-ratio: the share of each task within its class, and of the total.
function M._task_ratio_report(class_user_counts)
  local lines = {}
  local compiled = compile()
  local total_users = 0
  for i = 1, #compiled do total_users = total_users + (class_user_counts[i] or 0) end
  local function walk(entries, total, scale, depth)
    for _, e in ipairs(entries) do
      local share = total > 0 and e.weight / total * scale or 0
      lines[#lines + 1] = string.format(" %-10s %s", string.rep("  ", depth) .. string.format("%-6.1f", share * 100),
        string.rep("  ", depth) .. e.name)
      if e.taskset then walk(e.taskset.entries, e.taskset.total, share, depth + 1) end
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = " Task ratio per User class"
  lines[#lines + 1] = " " .. string.rep("-", 78)
  for _, c in ipairs(compiled) do
    lines[#lines + 1] = string.format(" %-10s %s", "100.0", c.name)
    walk(c.entries, c.total, 1, 1)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = " Total task ratio"
  lines[#lines + 1] = " " .. string.rep("-", 78)
  for i, c in ipairs(compiled) do
    local share = total_users > 0 and (class_user_counts[i] or 0) / total_users or 0
    lines[#lines + 1] = string.format(" %-10s %s", string.format("%-6.1f", share * 100), c.name)
    walk(c.entries, c.total, share, 1)
  end
  return table.concat(lines, "\n") .. "\n"
end

function M._fire(event, ...)
  dispatch(event, ...)
end

function M._has_setup() return lifecycle.setup ~= nil end
function M._has_teardown() return lifecycle.teardown ~= nil end
function M._has_listeners(event) return listeners[event] ~= nil end

function M._set_setup_data(value)
  setup_data = value
end

--- A context for coordinator work (setup, teardown, events): a client for the first host.
function M._new_context(host)
  return { client = http.new_client(host), host = host, setup_data = setup_data }
end

--- Runs coordinator work in its own coroutine. ctx.__action is "setup", "teardown" or an
-- event name; ctx.__arg its argument. Errors are returned in ctx.__error.
function M._run_coordinator_action(ctx)
  local action = ctx.__action
  local ok, result
  if action == "setup" then
    ok, result = xpcall(lifecycle.setup, capture_error, ctx)
    if ok then
      setup_data = result
      ctx.setup_data = result
      ctx.__result = result
    end
  elseif action == "teardown" then
    ok, result = xpcall(lifecycle.teardown, capture_error, ctx, setup_data)
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

return M
