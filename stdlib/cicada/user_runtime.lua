-- cicada.user_runtime: the users' lives. The declared classes are compiled once (tasks after
-- the tag filters, task names, weights); each virtual user is a coroutine of run_user:
-- on_start, then a loop of picking a task, running it and waiting, until the test stops it.
-- Driven by the runtime through cicada.runtime; not part of the scripts' API.
local core = require "cicada.core"
local http = require "cicada.http"
local declarations = require "cicada.declarations"
local events = require "cicada.events"
local support = require "cicada.support"
support.register_module()

local unpack = unpack or table.unpack
local fail, where = support.fail, support.where
local capture_error, Captured, Interrupt, STOP_USER = support.capture_error, support.Captured, support.Interrupt,
  support.STOP_USER
local classes, class_info, taskset_info = declarations.classes, declarations.class_info, declarations.taskset_info
local is_taskset, UserClass, TaskSetClass = declarations.is_taskset, declarations.UserClass, declarations.TaskSetClass
local dispatch = events.dispatch

local U = {}

local configuration = { tags = nil, exclude_tags = nil }
local compiled_classes = nil  -- runnable classes after tag filtering
local setup_data = nil        -- what cicada.setup() returned, for every user's self.setup_data

-- Compilation: tasks of every runnable class after tag filtering -----------------------------

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

-- Running users ----------------------------------------------------------------------------

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
  if not begin_iteration(entry.name) then error(STOP_USER, 0) end
  local ok, err = xpcall(entry.fn, capture_error, target)
  local go_on = task_boundary()  -- end_task; a user that did no I/O since the last one gives the loop a turn
  if not ok then
    if err == STOP_USER or getmetatable(err) == Interrupt then error(err, 0) end
    report(err, user)
  end
  if not go_on then error(STOP_USER, 0) end  -- stopped while the task ran (--stop-timeout)
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
        if start_err == STOP_USER or getmetatable(start_err) == Interrupt then error(start_err, 0) end
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
      if stop_err == STOP_USER then error(stop_err, 0) end
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

function U.new_user(class_index, user_id)
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
      if start_err == STOP_USER then error(start_err, 0) end
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
function U.run_user(user)
  local compiled = compile()
  local class = getmetatable(user)
  for _, c in ipairs(compiled) do
    if c.class == class then compiled = c break end
  end
  local ok, err = xpcall(user_main, capture_error, user, compiled)
  if ok then return end
  if err == STOP_USER then
    stop_chain(user)
  elseif getmetatable(err) == Interrupt then
    core.exception("self:interrupt() called outside a task set", "")
  else
    report(err, user)  -- e.g. a wait_time function that failed: the user ends
  end
end

function U.stop_user(user)
  stop_chain(user)
end

-- What the coordinator reads ------------------------------------------------------------------

--- configure{tags = {..}|nil, exclude_tags = {..}|nil}: the resolved options that shape tasks.
function U.configure(config)
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

--- The runnable user classes: { {name=, weight=, fixed_count=, host=, tasks=, declared=}, ... }.
function U.classes()
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
function U.task_ratio_report(class_user_counts)
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

--- Locust's GET /tasks document: per class, the class's share of the users and each task's
--- share within the class ("per_class") or of all users ("total"), task sets nested.
function U.task_ratios_json(class_user_counts)
  local compiled = compile()
  local total_users = 0
  for i = 1, #compiled do total_users = total_users + (class_user_counts[i] or 0) end
  local function tasks_of(entries, total, parent_ratio)
    local out = {}
    for _, e in ipairs(entries) do
      local ratio = (total > 0 and e.weight / total or 0) * parent_ratio
      local task = { ratio = ratio }
      if e.taskset then task.tasks = tasks_of(e.taskset.entries, e.taskset.total, ratio) end
      out[e.name] = task
    end
    return out
  end
  local per_class, overall = {}, {}
  for i, c in ipairs(compiled) do
    local ratio = total_users > 0 and (class_user_counts[i] or 0) / total_users or 0
    per_class[c.name] = { ratio = ratio, tasks = tasks_of(c.entries, c.total, 1) }
    overall[c.name] = { ratio = ratio, tasks = tasks_of(c.entries, c.total, ratio) }
  end
  return require("cicada.json").encode({ per_class = per_class, total = overall })
end

function U.set_setup_data(value)
  setup_data = value
end

function U.setup_data() return setup_data end

return U
