#pragma once
// Virtual users as Lua coroutines on one worker thread's loop.
//
// The handshake, for every blocking-looking call (HTTP request, sleep, parked iteration):
// the binding validates its arguments, starts the native operation, registers a PendingOp on
// the user (what to cancel if the user is stopped meanwhile) and returns lua_yield(). The
// native callback pushes the results onto the user's coroutine and calls complete(), which
// clears the PendingOp and calls resume(): the only place that calls lua_resume.
//
// Stopping a user cancels its PendingOp and abandons its coroutine; its on_stop then runs in a
// fresh coroutine, so on_stop can make requests too. A Vu is freed in its timer's close callback.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "runtime/script/user_hooks.h"

struct lua_State;

namespace cicada::stats {
class StatsBook;
}

namespace cicada::vu {

struct PendingOp {
  using CancelFn = void (*)(void* data);
  CancelFn cancel = nullptr;  // may be null: nothing to undo (e.g. a parked user)
  void* data = nullptr;
};

class Scheduler;
class ArrivalDispatcher;

struct Vu {
  enum class Phase { Running, Stopping, Done };

  std::uint32_t id = 0;
  int class_index = 0;
  Phase phase = Phase::Running;
  lua_State* co = nullptr;  // the coroutine currently running for this user
  int co_ref = -2;          // LUA_NOREF
  int self_ref = -2;        // the user instance table
  bool waiting = false;     // yielded on `pending`
  bool yielded = false;     // has waited on something since its last task boundary
  // In the ready queue (yield_to_loop): what its resume pushes, 0 for nothing, 1 false, 2 true.
  int ready_result = 0;
  bool in_iteration = false;  // holds one unit of the iteration budget
  bool in_task = false;       // between begin_iteration and end_task
  bool stop_requested = false;  // stop once the running task ends (--stop-timeout)
  // Open model (the flags sit together: a user is then 312 bytes, within one size class of the
  // allocator): the running task is an iteration of the arrival schedule, which was due at
  // `scheduled_ns` and started `schedule_lag_ns` later (0 when on time).
  bool arrival_iteration = false;
  bool free_for_arrivals = false;  // waiting in the dispatcher's free list
  bool reached_pool = false;       // has asked for its first iteration (or ended before)
  std::uint64_t schedule_lag_ns = 0;
  std::uint64_t stop_deadline_ns = 0;  // ramping down: when a task still running gets interrupted
  std::int64_t iterations_started = 0;  // for --iterations-per-user
  std::vector<int> deferred_refs;  // objects to settle when the task ends (catch_response)
  PendingOp pending;
  uv_timer_t sleep_timer{};
  Scheduler* scheduler = nullptr;
  std::size_t slot = 0;  // index in Scheduler::users_
  std::function<void()> on_done;  // for tasks started with spawn_task()
};

// Events the scheduler reports to its owner (the worker thread).
class SchedulerListener {
 public:
  virtual ~SchedulerListener() = default;
  // A user ended on its own (its coroutine returned or failed), not through stop_all().
  virtual void on_user_ended(int class_index) = 0;
  // The iteration budget is used up and no task is running any more.
  virtual void on_iterations_exhausted() = 0;
  // stop_all() has finished: every user has run on_stop (or was cut off at the grace period).
  virtual void on_all_stopped() = 0;
};

class Scheduler {
 public:
  // Functions of the Lua stdlib that drive a user: each is a registry reference.
  using LuaHooks = script::UserHooks;

  Scheduler(uv_loop_t* loop, lua_State* main_state, stats::StatsBook* stats, SchedulerListener* listener,
            LuaHooks hooks);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // -1 = unlimited. Counts task runs started on this thread.
  void set_iteration_budget(std::int64_t budget) { iteration_budget_ = budget; }
  // --iterations-per-user: a user ends (its on_stop runs) after this many task runs; -1 = never.
  void set_iterations_per_user(std::int64_t count) { iterations_per_user_ = count; }
  // The open model: iterations start when the dispatcher's schedule says, on a free user.
  void set_arrivals(ArrivalDispatcher* dispatcher) { arrivals_ = dispatcher; }
  ArrivalDispatcher* arrivals() const { return arrivals_; }
  // Locust's --stop-timeout: how long a user stopped in the middle of a task may go on until
  // the task ends. 0 interrupts tasks at once.
  void set_stop_timeout(double seconds) { stop_timeout_s_ = seconds; }

  // Returns how many users started (a failing constructor counts as an exception instead).
  int spawn(int class_index, int count);
  // Runs function(self) in a coroutine of its own, outside any user class (the coordinator's
  // setup, teardown and event listeners). Takes over `self_ref`; `on_done` runs when it ends.
  void spawn_task(int function_ref, int self_ref, std::function<void()> on_done);
  // Stops the newest `count` users of the class (ramping down); on_stop runs for each.
  void stop_users(int class_index, int count);
  // Stops every user: running tasks get the stop timeout to end, then on_stop gets `grace_s`
  // seconds in total before users are cut off.
  void stop_all(double grace_s);
  // Releases every remaining user without running Lua (the thread is shutting down).
  void shutdown();

  std::size_t user_count() const { return live_users_; }
  bool stopping() const { return stopping_; }

  // --- for bindings -------------------------------------------------------------------
  // The user whose coroutine is running right now, if `L` is that coroutine.
  Vu* running_user(lua_State* L) const { return (current_ && current_->co == L) ? current_ : nullptr; }
  // Registers what the user waits for. The binding then returns lua_yield(L, 0).
  void wait(Vu* vu, PendingOp op);
  // The awaited operation finished: `nargs` results are already pushed on vu->co.
  void complete(Vu* vu, int nargs);
  // cicada.sleep: starts the user's timer. The binding then returns lua_yield(L, 0).
  void sleep(Vu* vu, double seconds);
  // Called before each task run.
  enum class IterationStart {
    Go,        // run the task now
    Wait,      // the binding yields: the user is parked (budget used up, stopping) or, in the
               // open model, waits for the arrival schedule, which resumes it with `true`
    UserDone,  // --iterations-per-user reached: the user ends
  };
  IterationStart begin_iteration(Vu* vu);
  // Open model: starts an iteration due at `scheduled_ns` on `vu`, a user waiting in
  // begin_iteration (resumed at once), or one that just asked for work (nothing to resume).
  void start_arrival(Vu* vu, std::uint64_t scheduled_ns, bool resume_user);
  // The uncorrected-to-corrected difference for a sample `vu` records now: how late its
  // iteration started, in µs. nullopt in the closed model (no schedule, no correction).
  std::optional<std::uint64_t> schedule_lag_us(const Vu* vu) const;
  // The user a sample recorded on `L` right now belongs to, when the recording call does not
  // say: the user whose deferred objects are being settled, or the one running on `L`.
  const Vu* sampling_user(lua_State* L) const { return settling_ ? settling_ : running_user(L); }
  // Called after each task run (and after on_start): settles deferred objects, gives back the
  // iteration. False when the user was asked to stop once its task ended.
  bool end_task(Vu* vu, lua_State* L);
  // Keeps a Lua object (a registry reference, taken over) until the task ends; its metatable's
  // __cicada_task_end is then called with it.
  void defer_until_task_end(Vu* vu, int registry_ref);
  // At a task boundary: true when the user has not waited on anything since the last one
  // (a task without I/O and a zero wait). It must then give the loop a turn, or it would keep
  // the thread to itself: no stop, no stats, no other user would ever run.
  bool must_yield_at_boundary(Vu* vu) {
    bool waited = vu->yielded;
    vu->yielded = false;
    return !waited;
  }
  // Resumes the user in the loop's next turn, after I/O, timers and commands have had theirs;
  // with `result` (true/false) pushed as the value of the call that yielded, or nothing. The
  // binding then returns lua_yield(L, 0).
  void yield_to_loop(Vu* vu, std::optional<bool> result);
  // Parks the user for good: it waits, with nothing to cancel, until it is stopped.
  void park(Vu* vu) { wait(vu, PendingOp{}); }
  void record_exception(std::string message, std::string traceback);

 private:
  enum class StopPhase { None, TasksFinishing, OnStopRunning };

  void start_coroutine(Vu* vu, int function_ref);
  void resume(Vu* vu, int nargs);
  void cancel_pending(Vu* vu);
  void release_coroutine(Vu* vu);
  void end_iteration(Vu* vu);
  void settle_deferred(Vu* vu, lua_State* L);
  void begin_stop(Vu* vu, bool let_task_finish);
  // Ramping down with --stop-timeout: interrupts the tasks still running past their deadline.
  void arm_task_deadlines();
  void on_task_deadline();
  void interrupt_and_stop(Vu* vu);
  void finish(Vu* vu);
  void on_stop_timer();
  void check_all_stopped();
  void close_stop_timer();
  void run_ready();
  void forget_ready(Vu* vu);

  uv_loop_t* loop_;
  lua_State* main_;
  stats::StatsBook* stats_;
  SchedulerListener* listener_;
  LuaHooks hooks_;
  std::vector<Vu*> users_;  // live users (Running or Stopping), newest last
  std::size_t live_users_ = 0;
  std::uint32_t next_user_id_ = 1;
  Vu* current_ = nullptr;
  std::int64_t iteration_budget_ = -1;
  std::int64_t iterations_in_flight_ = 0;
  std::int64_t iterations_per_user_ = -1;
  ArrivalDispatcher* arrivals_ = nullptr;
  Vu* settling_ = nullptr;
  bool exhausted_reported_ = false;
  bool stopping_ = false;
  bool all_stopped_reported_ = false;
  double stop_timeout_s_ = 0;
  double on_stop_grace_s_ = 10;
  StopPhase stop_phase_ = StopPhase::None;
  uv_timer_t* stop_timer_ = nullptr;
  uv_timer_t* task_deadline_timer_ = nullptr;  // ramping down (stop_users) with --stop-timeout
  // Users that gave the loop a turn (yield_to_loop), resumed from an idle handle: unlike a
  // zero timer, which libuv runs again within the same timer phase, an idle callback runs once
  // per loop turn, after the poll for I/O (and it keeps that poll from blocking).
  uv_idle_t* ready_idle_ = nullptr;
  std::vector<Vu*> ready_;
  std::vector<Vu*> resuming_ready_;
};

}  // namespace cicada::vu
