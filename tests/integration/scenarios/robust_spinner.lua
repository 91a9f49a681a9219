-- One user (on one thread) whose task loops forever without yielding; the other users make
-- requests. The run must still stop, name the task, and report the other thread's numbers.
local cicada = require "cicada"

local Spinner = cicada.user("Spinner", { fixed_count = 1 })
function Spinner:spin_forever()
  while true do end
end
Spinner:task(Spinner.spin_forever)

local Fetcher = cicada.user("Fetcher", { wait_time = cicada.constant(0.01) })
Fetcher:task(function(self) self.client:get("/") end)
