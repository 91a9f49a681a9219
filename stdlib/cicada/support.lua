-- cicada.support: what every module of the stdlib shares: errors pointed at the script's
-- line, the text an error is counted under, and the markers a user's control flow throws
-- (cicada.stop_user(), self:interrupt()). Not part of the scripts' API.
local S = {}

-- The chunks of the stdlib: frames in them are skipped when an error points at the script.
local stdlib_sources = {}

--- Called at the top of every stdlib module: its frames are the stdlib's, not the script's.
function S.register_module()
  stdlib_sources[debug.getinfo(2, "S").source] = true
end
S.register_module()

-- The stack level (as seen by the caller of this function) of the script code that called
-- into the stdlib, however deep inside it we are (tail calls included).
function S.script_level()
  local level = 3
  while true do
    local info = debug.getinfo(level, "S")
    if not info then return 2 end
    if not stdlib_sources[info.source] and info.what ~= "C" then return level - 1 end
    level = level + 1
  end
end

--- Raises a misuse error pointing at the script line that called into the stdlib.
function S.fail(_, message, ...)
  error(string.format(message, ...), S.script_level())
end

function S.is_whole(n)
  return type(n) == "number" and n >= 0 and n == math.floor(n) and n < math.huge
end

function S.where(fn)
  local info = debug.getinfo(fn, "S")
  return info.short_src:match("[^/]*$") .. ":" .. (info.linedefined or 0)
end

--- Thrown by cicada.stop_user(): ends the calling user, as Locust's StopUser does.
S.STOP_USER = setmetatable({}, { __tostring = function() return "cicada.stop_user() outside a user" end })

S.Interrupt = {}  -- metatable marking an interrupt signal (self:interrupt())
S.Interrupt.__tostring = function() return "task set interrupted outside a task set" end

S.Captured = {}  -- metatable of an error caught with its traceback

-- The text an error object is counted under. Exceptions are keyed by it, so it must not hold
-- what differs between two raises of the same error: a table is shown by its contents (not
-- its address), a function or userdata by its type; a __tostring that fails gives a fixed text.
local function short_value(value)
  if type(value) == "string" then return string.format("%q", #value > 60 and value:sub(1, 60) .. "..." or value) end
  if type(value) == "number" or type(value) == "boolean" then return tostring(value) end
  return type(value)
end

function S.error_text(err)
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

function S.capture_error(err)
  if getmetatable(err) == S.Interrupt or err == S.STOP_USER then return err end
  local traceback = debug.traceback("", 2)
  -- Drop the stdlib's frames below the task: they are the same for every error.
  local cut = traceback:find("\n%s*%[C%]: in function 'xpcall'")
  if cut then traceback = traceback:sub(1, cut - 1) end
  traceback = traceback:gsub("^\n", "")
  return setmetatable({ message = S.error_text(err), traceback = traceback }, S.Captured)
end

return S
