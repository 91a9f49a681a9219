#pragma once
// Registry references to the stdlib functions that run a virtual user, which the scheduler
// calls (runtime/vu/scheduler.h) and the script host looks up (ScriptHost::scheduler_hooks).

namespace cicada::script {

struct UserHooks {
  int new_user = -2;   // function(class_index, user_id) -> instance
  int run_user = -2;   // function(instance): on_start, then the task loop
  int stop_user = -2;  // function(instance): on_stop
};

}  // namespace cicada::script
