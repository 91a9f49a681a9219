#pragma once
// A LuaJIT state set up for cicada: standard libraries, the native modules (cicada.core,
// cicada.http, cicada.json), the stdlib compiled into the binary, and `require` looking next
// to the script first. Loads a scenario script and reads its user classes.
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/script/user_hooks.h"

struct lua_State;

namespace cicada::common {
struct ThreadContext;
}

namespace cicada::script {

struct UserClassInfo {
  std::string name;
  int weight = 1;
  int fixed_count = 0;
  std::string host;   // empty when the class sets none
  int task_count = 0;      // after tag filtering
  int declared_tasks = 0;  // before
};

// One key of cicada.thresholds{...}, as the script wrote it; the runtime parses it.
struct ScriptThreshold {
  std::string key;                      // "GET /items p95"
  std::vector<std::string> conditions;  // "<100ms", ...
  bool abort_on_fail = false;
  std::string delay;                    // "10s"; empty when none
  std::string where;                    // "shop.lua:12": the cicada.thresholds call
};

// The script's load shape (docs/load-models.md): cicada.shape, or cicada.stages.
struct LoadShapeInfo {
  enum class Kind { None, Users, Rate };
  Kind kind = Kind::None;            // Users: called every second (cicada.shape, stages with users)
  std::vector<std::pair<double, double>> rate_stages;  // Rate: (duration s, rate per second)
  std::string where;                 // "shop.lua:12": where it was declared
};

// What one call of a Users shape said.
struct ShapeTick {
  bool ended = false;  // it returned nil: the test ends
  int users = 0;
  double spawn_rate = 1;
  std::vector<std::string> classes;  // empty: every class
};

class LuaValue;

// A module written in C++ (bindings/), offered to require() by name.
struct NativeModule {
  const char* name;
  int (*open)(lua_State* L);
};

class ScriptHost {
 public:
  // `native_modules` come from the floor above (bindings::kNativeModules), so that the host
  // does not depend on the bindings it loads.
  ScriptHost(common::ThreadContext* context, std::span<const NativeModule> native_modules);
  ~ScriptHost();
  ScriptHost(const ScriptHost&) = delete;
  ScriptHost& operator=(const ScriptHost&) = delete;

  lua_State* state() const { return L_; }

  // Compiles and runs the script's top-level code. On failure, `error` holds
  // "file:line: message" (and the traceback for errors raised while running).
  bool load(const std::string& path, std::string* error);
  // Options that shape the tasks (tag filters); call before user_classes().
  bool configure(const std::vector<std::string>& tags, const std::vector<std::string>& exclude_tags,
                 std::string* error);
  // The runnable classes declared with cicada.user(), in declaration order.
  bool user_classes(std::vector<UserClassInfo>* out, std::string* error);
  // cicada.options{...} as (name, text) pairs; lists are joined with commas.
  bool script_options(std::vector<std::pair<std::string, std::string>>* out, std::string* error);
  // cicada.thresholds{...}, sorted by key.
  bool script_thresholds(std::vector<ScriptThreshold>* out, std::string* error);
  bool load_shape(LoadShapeInfo* out, std::string* error);
  // Calls a Users shape with the seconds since the test started.
  bool shape_tick(double run_time_s, ShapeTick* out, std::string* error);
  // Locust's --show-task-ratio, for these user counts per class.
  std::string task_ratio_report(const std::vector<int>& class_user_counts);
  // The same ratios as Locust's GET /tasks JSON document.
  std::string task_ratios_json(const std::vector<int>& class_user_counts);
  // The `init` event, synchronously; listener errors are counted as exceptions.
  void fire_init(bool coordinator, int thread_index);
  bool set_setup_data(const LuaValue& value, std::string* error);
  // Calls one of the stdlib's has_* predicates (`has_setup`, `has_teardown`, ...).
  bool module_predicate(const char* function, const char* argument = nullptr);
  // A coordinator action ("setup", "teardown" or an event) as the stdlib runs it: a context with
  // a client for `host` and `argument`, which the scheduler runs in a coroutine
  // (the hook run_coordinator_action), and where the outcome is read afterwards.
  struct CoordinatorAction {
    int context_ref = -2;  // LUA_NOREF when the context could not be made; handed to the scheduler
    int outcome_ref = -2;  // the same context, for take_action_outcome
  };
  CoordinatorAction new_coordinator_action(const std::string& host, const std::string& action,
                                           const LuaValue* argument);
  // What the action left: its error text (empty on success) and, when `want_result`, its return
  // value copied for other threads (setup data). Releases the action's outcome reference.
  struct ActionOutcome {
    std::string error;
    std::shared_ptr<LuaValue> result;
  };
  ActionOutcome take_action_outcome(const CoordinatorAction& action, bool want_result);
  // Registry reference to one of the stdlib's runtime hooks (owned by the caller).
  int module_function(const char* name);
  // References to the stdlib functions the scheduler drives users with.
  UserHooks scheduler_hooks();
  // Closes the Lua state now (collecting every object), before the loop is torn down.
  void close();

 private:
  bool push_runtime_module(std::string* error);
  bool call_module(const char* function, int nargs, int nresults, std::string* error);
  // Calls the runtime module's `function` with a list of integers; its string result.
  std::string call_with_counts(const char* function, const std::vector<int>& counts, std::string* error);

  lua_State* L_ = nullptr;
};

}  // namespace cicada::script
