-- cicada: the scenario DSL. A script starts with `local cicada = require "cicada"`.
--
-- The top-level code of a script runs once per worker thread (and once on the coordinator,
-- which reads the user classes from it). Each virtual user is a coroutine running
-- run_user() below; every call that waits (HTTP, sleep) suspends only that coroutine.
local core = require "cicada.core"
local http = require "cicada.http"
local json = require "cicada.json"

local M = { json = json, version = "0.1.0" }

local classes = {}                                  -- user classes, in declaration order
local class_info = setmetatable({}, { __mode = "k" }) -- class -> { name, weight, tasks }

local function fail(level, message, ...)
  error(string.format(message, ...), level + 1)
end

local function is_whole(n)
  return type(n) == "number" and n >= 0 and n == math.floor(n) and n < math.huge
end

-- Methods every user class has (and, through it, every user instance).
local UserClass = {}

local user_options = { weight = true, wait_time = true, host = true }

--- cicada.user(name, {weight=, wait_time=, host=}) -> a user class.
-- Methods defined on it (`function Shopper:on_start() ... end`) become the users' methods.
function M.user(name, opts)
  if type(name) ~= "string" or name == "" then
    fail(2, "cicada.user(name, opts): name must be a non-empty string")
  end
  opts = opts or {}
  if type(opts) ~= "table" then fail(2, "cicada.user(%q, opts): opts must be a table", name) end
  for key in pairs(opts) do
    if not user_options[key] then
      fail(2, "cicada.user(%q): unknown option %q (known: weight, wait_time, host)", name, tostring(key))
    end
  end
  for _, existing in ipairs(classes) do
    if class_info[existing].name == name then fail(2, "user class %q is defined twice", name) end
  end
  local weight = opts.weight == nil and 1 or opts.weight
  if not is_whole(weight) then fail(2, "cicada.user(%q): weight must be a whole number >= 0", name) end
  local wait_time = opts.wait_time
  if wait_time ~= nil and type(wait_time) ~= "function" and type(wait_time) ~= "number" then
    fail(2, "cicada.user(%q): wait_time must be a function (cicada.between, cicada.constant, ...) or seconds", name)
  end
  if opts.host ~= nil and type(opts.host) ~= "string" then fail(2, "cicada.user(%q): host must be a string", name) end

  local class = setmetatable({}, {
    __index = UserClass,
    __tostring = function() return "cicada.user(" .. name .. ")" end,
  })
  class.__index = class
  class.wait_time = wait_time
  class.host = opts.host
  class_info[class] = { name = name, weight = weight, tasks = {} }
  classes[#classes + 1] = class
  return class
end

--- User:task([weight,] fn): adds a task; a user picks its next task at random by weight.
function UserClass:task(weight, fn)
  local info = class_info[self]
  if not info then fail(2, "task() must be called on a user class, with a colon: User:task(weight, fn)") end
  if type(weight) == "function" and fn == nil then weight, fn = 1, weight end
  if not is_whole(weight) then fail(2, "%s:task(weight, fn): weight must be a whole number >= 0", info.name) end
  if type(fn) ~= "function" then fail(2, "%s:task(weight, fn): fn must be a function", info.name) end
  info.tasks[#info.tasks + 1] = { fn = fn, weight = weight }
  info.total_weight = nil
  return fn
end

--- Wait times: functions of the user returning seconds.
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

M.sleep = core.sleep
M.now = core.now

-- ---------------------------------------------------------------------------------------
-- Driven by the runtime (names starting with _ are not part of the scenario API).

--- The user classes, for the coordinator: { {name=, weight=, host=, tasks=}, ... }.
function M._classes()
  local list = {}
  for i, class in ipairs(classes) do
    local info = class_info[class]
    list[i] = { name = info.name, weight = info.weight, host = class.host, tasks = #info.tasks }
  end
  return list
end

local function capture_error(err)
  local traceback = debug.traceback("", 2)
  -- Drop the frames of this file below the task: they are the same for every error.
  local cut = traceback:find("\n%s*%[C%]: in function 'xpcall'")
  if cut then traceback = traceback:sub(1, cut - 1) end
  traceback = traceback:gsub("^\n", "")
  return { message = tostring(err), traceback = traceback }
end

local function report(captured)
  core.exception(captured.message, captured.traceback)
end

function M._new_user(class_index, user_id)
  local class = classes[class_index]
  local user = setmetatable({}, class)
  user.user_id = user_id
  user.client = http.new_client(core.host_override() or class.host)
  return user
end

local function task_picker(info)
  local tasks = info.tasks
  if not info.total_weight then
    local total = 0
    for _, t in ipairs(tasks) do total = total + t.weight end
    info.total_weight = total
  end
  local total = info.total_weight
  if #tasks == 1 then
    local only = tasks[1].fn
    return function() return only end
  end
  return function()
    local r = math.random() * total
    for i = 1, #tasks do
      r = r - tasks[i].weight
      if r < 0 then return tasks[i].fn end
    end
    return tasks[#tasks].fn
  end
end

local function waiter(user)
  local wait_time = user.wait_time
  if wait_time == nil then return nil end
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

local begin_iteration, end_iteration, sleep = core.begin_iteration, core.end_iteration, core.sleep

--- A user's life: on_start, then tasks until the test stops it. Errors in a task are
-- counted as exceptions and the user goes on with its next task, as in Locust.
function M._run_user(user)
  local info = class_info[getmetatable(user)]
  if user.on_start then
    local ok, err = xpcall(user.on_start, capture_error, user)
    if not ok then
      report(err)
      return -- a user whose on_start failed has no state to run tasks with
    end
  end
  local pick = task_picker(info)
  local wait = waiter(user)
  while begin_iteration() do
    local ok, err = xpcall(pick(), capture_error, user)
    if not ok then report(err) end
    end_iteration()
    if wait then
      local seconds = wait(user)
      if seconds > 0 then sleep(seconds) end
    end
  end
end

function M._stop_user(user)
  if user.on_stop then
    local ok, err = xpcall(user.on_stop, capture_error, user)
    if not ok then report(err) end
  end
end

return M
