-- cicada.declarations: what a script declares with the stdlib: user classes and their tasks,
-- task sets, wait times, setup/teardown and cicada.options{}. The runtime reads them back
-- through cicada.user_runtime and cicada.coordinator.
local core = require "cicada.core"
local http = require "cicada.http"
local support = require "cicada.support"
support.register_module()

local fail, is_whole, script_level = support.fail, support.is_whole, support.script_level

local D = {}

D.classes = {}                                      -- user classes, in declaration order
D.class_info = setmetatable({}, { __mode = "k" })   -- class -> info
D.taskset_info = setmetatable({}, { __mode = "k" }) -- task set class -> info
D.lifecycle = {}                                    -- setup / teardown functions
D.script_options = {}                               -- cicada.options{...}

local classes, class_info, taskset_info, lifecycle = D.classes, D.class_info, D.taskset_info, D.lifecycle

function D.tag_set(tags, what)
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

function D.is_taskset(value)
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
  if type(run) ~= "function" and not D.is_taskset(run) then
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
  return { run = run, weight = weight, name = name, tags = D.tag_set(opts.tags, what) }
end

-- Tasks given as data: a list ({fn1, fn2} or entries {fn=, weight=, tags=, name=}), or a map
-- {[fn1] = 3, [fn2] = 1} like Locust's `tasks = {...}`.
local function parse_tasks(spec, what)
  local entries = {}
  if spec == nil then return entries end
  if type(spec) ~= "table" then fail(3, "%s: tasks must be a list or a {[fn] = weight} table", what) end
  if #spec > 0 then
    for _, item in ipairs(spec) do
      if type(item) == "table" and not D.is_taskset(item) then
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
    if type(a) == "table" and not D.is_taskset(a) then opts, run, weight = a, b, 1 else weight, run = a, b end
  else
    weight, run = 1, a
  end
  local entry = make_entry(run, weight, opts, what)
  tasks[#tasks + 1] = entry
  return run
end

-- Methods every user class has (and, through it, every user).
local UserClass = {}
D.UserClass = UserClass

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
function D.user(name, opts)
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
D.TaskSetClass = TaskSetClass

function TaskSetClass:task(a, b, c)
  local info = taskset_info[self]
  if not info then fail(2, "task() must be called on a task set, with a colon: Set:task(weight, fn)") end
  return add_task(info.name, info.tasks, a, b, c)
end

local Interrupt = support.Interrupt

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
    tags = D.tag_set(spec.tags, what),
  }
  return set
end

--- cicada.taskset{name=, tasks=, on_start=, on_stop=, wait_time=, tags=}: a group of tasks a
-- user enters when the set is picked as a task, and stays in until self:interrupt().
function D.taskset(spec) return new_taskset("taskset", spec, 3) end

--- cicada.sequence{fn1, fn2, ...}: a task set that runs its tasks in order, over and over.
function D.sequence(spec) return new_taskset("sequence", spec, 3) end

-- Wait times -------------------------------------------------------------------------------

function D.between(min_s, max_s)
  if type(min_s) ~= "number" or type(max_s) ~= "number" or min_s < 0 or max_s < min_s then
    fail(2, "cicada.between(min, max): need 0 <= min <= max (seconds)")
  end
  return function() return min_s + math.random() * (max_s - min_s) end
end

function D.constant(seconds)
  if type(seconds) ~= "number" or seconds < 0 then fail(2, "cicada.constant(seconds): need a number >= 0") end
  return function() return seconds end
end

--- Waits so that tasks start every `seconds` at most: wait = max(0, seconds - task time).
function D.constant_pacing(seconds)
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
function D.constant_throughput(per_second)
  if type(per_second) ~= "number" or per_second <= 0 then fail(2, "cicada.constant_throughput(n): need n > 0") end
  return D.constant_pacing(1 / per_second)
end


--- cicada.url_encode("Blade Runner") == "Blade%20Runner": for building paths and queries.
function D.url_encode(text)
  return (tostring(text):gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

--- cicada.setup(fn): fn(ctx) runs once on the coordinator before users start; what it
-- returns (plain values and tables) becomes self.setup_data of every user.
function D.setup(fn)
  if type(fn) ~= "function" then fail(2, "cicada.setup(fn): fn must be a function") end
  lifecycle.setup = fn
end

--- cicada.teardown(fn): fn(ctx, setup_data) runs once on the coordinator after users stop.
function D.teardown(fn)
  if type(fn) ~= "function" then fail(2, "cicada.teardown(fn): fn must be a function") end
  lifecycle.teardown = fn
end

-- What each option of cicada.options{} takes, from the option table of the runtime
-- (runtime/config/option_table.cpp): "duration" and "rate" are strings ("30s", "500/s") or plain
-- numbers (seconds, per second).
local option_names = core.option_types()

--- cicada.options{host=, users=, spawn_rate=, run_time=, ...}: defaults for the command line
-- options; a config file, CICADA_* variables and the command line override them.
function D.options(opts)
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
    D.script_options[key] = value
  end
end

-- Control flow -------------------------------------------------------------------------------

--- cicada.stop_user(): ends the calling user (its on_stop runs) as Locust's StopUser does.
function D.stop_user()
  error(support.STOP_USER, 0)
end

--- cicada.stop_test(reason): stops the whole test, as if its run time were over.
function D.stop_test(reason)
  core.stop_test(reason and tostring(reason) or "cicada.stop_test() called")
  if not core.is_coordinator() then core.park() end
end

return D
