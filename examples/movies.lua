-- A movie API browsed by people who think between clicks: three GET endpoints of equal
-- weight, 5 to 9 seconds between tasks, and every failed request printed in full.
--   cicada run examples/movies.lua -H http://127.0.0.1:8080 -u 50 -r 5 -t 5m
local cicada = require "cicada"

local titles = {
  { "The Matrix", 1999 }, { "Blade Runner", 1982 }, { "Spirited Away", 2001 }, { "Alien", 1979 },
  { "Metropolis", 1850 }, -- a wrong year on purpose: the API answers 404 and the hook below prints it
}

cicada.on("request_failure", function(request, response, err)
  print(string.format("FAILED %s %s -> %s", request.method, request.url, err))
  for name, value in pairs(request.headers) do print("  header " .. name .. ": " .. value) end
  if request.body then print("  body " .. request.body) end
  if response and response.body ~= "" then print("  answer " .. response.body) end
end)

local Viewer = cicada.user("MovieViewer", { wait_time = cicada.between(5, 9) })

function Viewer:on_start()
  self.headers = { ["X-Viewer"] = tostring(self.user_id) }
end

Viewer:task(1, function(self)
  self.client:get("/status", { headers = self.headers })
end)

Viewer:task(1, function(self)
  self.client:get("/api/id/" .. math.random(1000), { name = "/api/id/[id]", headers = self.headers })
end)

Viewer:task(1, function(self)
  local movie = titles[math.random(#titles)]
  self.client:get("/api/title/" .. cicada.url_encode(movie[1]) .. "/" .. movie[2],
    { name = "/api/title/[title]/[year]", headers = self.headers })
end)
