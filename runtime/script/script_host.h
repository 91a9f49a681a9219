#pragma once
// A LuaJIT state set up for cicada: standard libraries, the native modules (cicada.core,
// cicada.http, cicada.json), the stdlib compiled into the binary, and `require` looking next
// to the script first. Loads a scenario script and reads its user classes.
#include <string>
#include <vector>

#include "runtime/vu/scheduler.h"

struct lua_State;

namespace cicada::loop {
struct ThreadContext;
}

namespace cicada::script {

struct UserClassInfo {
  std::string name;
  int weight = 1;
  std::string host;  // empty when the class sets none
  int task_count = 0;
};

class ScriptHost {
 public:
  explicit ScriptHost(loop::ThreadContext* context);
  ~ScriptHost();
  ScriptHost(const ScriptHost&) = delete;
  ScriptHost& operator=(const ScriptHost&) = delete;

  lua_State* state() const { return L_; }

  // Compiles and runs the script's top-level code. On failure, `error` holds
  // "file:line: message" (and the traceback for errors raised while running).
  bool load(const std::string& path, std::string* error);
  // The classes declared with cicada.user(), in declaration order.
  bool user_classes(std::vector<UserClassInfo>* out, std::string* error);
  // References to the stdlib functions the scheduler drives users with.
  vu::Scheduler::LuaHooks scheduler_hooks();
  // Closes the Lua state now (collecting every object), before the loop is torn down.
  void close();

 private:
  bool push_cicada_module(std::string* error);

  lua_State* L_ = nullptr;
};

}  // namespace cicada::script
