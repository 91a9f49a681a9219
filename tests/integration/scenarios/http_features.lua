-- The HTTP client's features against the built-in target; every check raises on a mismatch,
-- so a clean run has no exceptions. The test reads the printed lines too.
local cicada = require "cicada"
local json = cicada.json

local Client = cicada.user("Client", { client = { timeout = 5, idle_timeout = 2 } })

Client:task(function(self)
  -- Bodies: form, multipart with form fields, basic auth, raw body.
  local form = self.client:post("/echo", { form = { b = "two words", a = { "1", "2" } }, name = "form" }):json()
  assert(form.body == "a=1&a=2&b=two%20words", form.body)
  assert(form.headers["content-type"] == "application/x-www-form-urlencoded", form.headers["content-type"])

  local upload = self.client:post("/echo", {
    files = { report = { filename = "r.csv", content = "x,y\n1,2\n", content_type = "text/csv" } },
    form = { kind = "daily" },
    name = "multipart",
  }):json()
  local boundary = upload.headers["content-type"]:match("^multipart/form%-data; boundary=(.+)$")
  assert(boundary, upload.headers["content-type"])
  assert(upload.body:find('Content-Disposition: form-data; name="kind"\r\n\r\ndaily\r\n', 1, true), upload.body)
  assert(upload.body:find('name="report"; filename="r.csv"\r\nContent-Type: text/csv\r\n\r\nx,y\n1,2\n', 1, true))
  assert(upload.body:sub(-(#boundary + 6)) == "--" .. boundary .. "--\r\n")

  local auth = self.client:get("/echo", { auth = { "ada", "s3cret" }, name = "auth" }):json()
  assert(auth.headers["authorization"] == "Basic YWRhOnMzY3JldA==", auth.headers["authorization"])

  -- Timeouts: each its own reason; a slow answer within the limit is fine.
  local total = self.client:get("/delay/400", { timeout = 0.1, name = "total timeout" })
  assert(total.error == "timeout" and total.status == 0, tostring(total.error))
  local first = self.client:get("/delay/400", { first_byte_timeout = 0.1, name = "first byte timeout" })
  assert(first.error == "first byte timeout", tostring(first.error))
  local fine = self.client:get("/delay/50", { first_byte_timeout = 1, name = "in time" })
  assert(fine.ok, tostring(fine.error))

  -- Timings add up to no more than the whole.
  local t = fine.timings
  local sum = t.dns + t.connect + t.tls + t.send + t.wait + t.receive
  assert(t.wait >= 0.045 and sum <= fine.elapsed + 1e-6, json.encode(t))
  print(string.format("timings wait=%.3f elapsed=%.3f", t.wait, fine.elapsed))

  -- Large bodies: bounded when kept, counted when discarded.
  local big = self.client:get("/bytes/300000", { max_body = 100000, name = "too large" })
  assert(big.error == "body too large", tostring(big.error))
  local counted = self.client:get("/bytes/300000", { discard_body = true, name = "discarded" })
  assert(counted.ok and counted.body == "" and counted.length == 300000, tostring(counted.length))

  -- Batch: in parallel on separate connections, answers in order.
  local started = cicada.now()
  local answers = self.client:batch{
    { "GET", "/delay/300", { name = "batch slow" } },
    { "POST", "/echo", { json = { n = 2 }, name = "batch echo" } },
    { "GET", "/status/404", { name = "batch missing" } },
  }
  local took = cicada.now() - started
  assert(#answers == 3, #answers)
  assert(answers[1].status == 200 and answers[1]:json().delay_ms == 300)
  assert(answers[2]:json().body == '{"n":2}')
  assert(answers[3].status == 404 and answers[3].error == "HTTP 404 Not Found")
  assert(took >= 0.29 and took < 0.6, "batch took " .. took)  -- one delay, not the sum
  print(string.format("batch took=%.3f", took))
end)

-- One request per user, users started 10 ms apart: each Own user opens its own connection,
-- Shared users borrow the one the previous user left idle in the thread's pool.
local function once(name)
  return function(self)
    assert(self.client:get("/", { name = name }).ok)
    cicada.stop_user()
  end
end
local Shared = cicada.user("Shared", { weight = 0, client = { pool = "thread" } })
Shared:task(once("shared"))
local Own = cicada.user("Own", { weight = 0 })
Own:task(once("own"))
