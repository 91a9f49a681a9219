local cicada = require "cicada"

cicada.on("init", function(info) print(info.coordinator and "init coordinator" or ("init thread " .. info.thread)) end)
cicada.on("test_start", function(ctx)
  local res = ctx.client:get("/json")
  print("test_start " .. res.status)
end)
cicada.on("spawning_complete", function(count) print("spawning_complete " .. count) end)
cicada.on("test_stopping", function() print("test_stopping") end)
cicada.on("test_stop", function() print("test_stop") end)
cicada.on("quitting", function() print("quitting") end)
cicada.on("request", function(r) print("request " .. r.method .. " " .. r.name .. " " .. r.status .. " " .. tostring(r.error)) end)
cicada.on("request_failure", function(req, res, err)
  print("request_failure " .. req.method .. " " .. req.url .. " " .. req.headers["X-Id"] .. " " .. req.body .. " " .. res.status .. " " .. err)
end)
cicada.on("user_error", function(user, message) print("user_error " .. message) end)

cicada.setup(function(ctx)
  local res = ctx.client:post("/login", { json = { user = "setup" } })
  return { token = res:json().token, list = { 1, 2, 3 }, nested = { ok = true } }
end)
cicada.teardown(function(ctx, data) print("teardown " .. data.token .. " " .. #data.list) end)

local U = cicada.user("U")
U:task(function(self)
  assert(self.setup_data.token == "token-setup" and self.setup_data.nested.ok, "setup data")
  self.client:post("/status/503", { json = { n = 1 }, headers = { ["X-Id"] = "7" }, name = "fail" })
  error("boom")
end)
