#include "runtime/vu/scheduler.h"

#include <lua.hpp>

#include <algorithm>
#include <cmath>

#include "runtime/common/thread_context.h"
#include "runtime/script/source_names.h"
#include "runtime/script/thread_context_slot.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/arrivals.h"

namespace cicada::vu {

namespace {

std::string error_message(lua_State* L, int index) {
  if (const char* text = lua_tostring(L, index)) return text;
  return std::string("(error object is a ") + luaL_typename(L, index) + " value)";
}

std::uint64_t to_ms(double seconds) { return static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) * 1000.0)); }

void close_and_delete_user(Vu* vu) {
  uv_close(reinterpret_cast<uv_handle_t*>(&vu->sleep_timer),
           [](uv_handle_t* handle) { delete static_cast<Vu*>(handle->data); });
}

uv_timer_t* new_timer(uv_loop_t* loop, void* owner) {
  auto* timer = new uv_timer_t;
  uv_timer_init(loop, timer);
  timer->data = owner;
  return timer;
}

void close_and_delete_timer(uv_timer_t* timer) {
  if (!timer) return;
  uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); });
}

}  // namespace

Scheduler::Scheduler(uv_loop_t* loop, lua_State* main_state, stats::StatsBook* stats, SchedulerListener* listener,
                     LuaHooks hooks)
    : loop_(loop), main_(main_state), stats_(stats), listener_(listener), hooks_(hooks) {
  ready_idle_ = new uv_idle_t;
  uv_idle_init(loop_, ready_idle_);
  ready_idle_->data = this;
}

Scheduler::~Scheduler() { shutdown(); }

int Scheduler::spawn(int class_index, int count) {
  if (stopping_) return 0;
  int started = 0;
  for (int i = 0; i < count; ++i) {
    auto* vu = new Vu;
    vu->id = next_user_id_++;
    vu->class_index = class_index;
    vu->scheduler = this;
    uv_timer_init(loop_, &vu->sleep_timer);
    vu->sleep_timer.data = vu;

    lua_rawgeti(main_, LUA_REGISTRYINDEX, hooks_.new_user);
    lua_pushinteger(main_, class_index + 1);
    lua_pushinteger(main_, vu->id);
    if (lua_pcall(main_, 2, 1, 0) != 0) {
      record_exception(error_message(main_, -1), "");
      lua_pop(main_, 1);
      close_and_delete_user(vu);
      continue;
    }
    vu->self_ref = luaL_ref(main_, LUA_REGISTRYINDEX);
    vu->slot = users_.size();
    users_.push_back(vu);
    ++live_users_;
    ++started;
    start_coroutine(vu, hooks_.run_user);
  }
  return started;
}

void Scheduler::spawn_task(int function_ref, int self_ref, std::function<void()> on_done) {
  auto* vu = new Vu;
  vu->id = next_user_id_++;
  vu->class_index = -1;
  vu->scheduler = this;
  vu->on_done = std::move(on_done);
  uv_timer_init(loop_, &vu->sleep_timer);
  vu->sleep_timer.data = vu;
  vu->self_ref = self_ref;
  vu->slot = users_.size();
  users_.push_back(vu);
  ++live_users_;
  start_coroutine(vu, function_ref);
}

void Scheduler::start_coroutine(Vu* vu, int function_ref) {
  vu->co = lua_newthread(main_);
  vu->co_ref = luaL_ref(main_, LUA_REGISTRYINDEX);
  lua_rawgeti(vu->co, LUA_REGISTRYINDEX, function_ref);
  lua_rawgeti(vu->co, LUA_REGISTRYINDEX, vu->self_ref);
  resume(vu, 1);
}

void Scheduler::resume(Vu* vu, int nargs) {
  Vu* previous = current_;
  current_ = vu;
  int status = lua_resume(vu->co, nargs);
  current_ = previous;

  if (status == LUA_YIELD) {
    if (!vu->waiting) {
      // A bare coroutine.yield() from script code: the user gives the loop a turn and goes
      // on, instead of hanging forever.
      lua_settop(vu->co, 0);
      yield_to_loop(vu, std::nullopt);
    }
    return;
  }
  if (status != 0) {
    // The stdlib catches task errors itself; what reaches here escaped it (a failing
    // on_start/on_stop or wait_time). Count it and end the user.
    std::string message = error_message(vu->co, -1);
    luaL_traceback(main_, vu->co, nullptr, 0);
    std::string traceback = lua_tostring(main_, -1) ? lua_tostring(main_, -1) : "";
    lua_pop(main_, 1);
    record_exception(message, traceback);
  }
  finish(vu);
}

void Scheduler::wait(Vu* vu, PendingOp op) {
  vu->pending = op;
  vu->waiting = true;
  vu->yielded = true;
}

void Scheduler::yield_to_loop(Vu* vu, std::optional<bool> result) {
  vu->ready_result = result ? (*result ? 2 : 1) : 0;
  ready_.push_back(vu);
  if (ready_.size() == 1)
    uv_idle_start(ready_idle_, [](uv_idle_t* idle) { static_cast<Scheduler*>(idle->data)->run_ready(); });
  wait(vu, PendingOp{[](void* data) {
                       auto* user = static_cast<Vu*>(data);
                       user->scheduler->forget_ready(user);
                     },
                     vu});
}

void Scheduler::run_ready() {
  // Users made ready while these run wait for the next turn.
  resuming_ready_.swap(ready_);
  uv_idle_stop(ready_idle_);
  for (std::size_t i = 0; i < resuming_ready_.size(); ++i) {
    Vu* vu = resuming_ready_[i];
    if (!vu) continue;  // stopped by an earlier one's resume
    resuming_ready_[i] = nullptr;
    vu->yielded = false;  // the turn it gave does not count as I/O
    int nargs = 0;
    if (vu->ready_result != 0) {
      lua_pushboolean(vu->co, vu->ready_result == 2);
      nargs = 1;
    }
    complete(vu, nargs);
  }
  resuming_ready_.clear();
}

void Scheduler::forget_ready(Vu* vu) {
  for (auto* list : {&ready_, &resuming_ready_}) {
    auto found = std::find(list->begin(), list->end(), vu);
    if (found == list->end()) continue;
    if (list == &ready_) {
      list->erase(found);
    } else {
      *found = nullptr;
    }
  }
  if (ready_.empty()) uv_idle_stop(ready_idle_);
}

void Scheduler::complete(Vu* vu, int nargs) {
  vu->pending = {};
  vu->waiting = false;
  resume(vu, nargs);
}

void Scheduler::sleep(Vu* vu, double seconds) {
  if (to_ms(seconds) == 0) {
    // Under a millisecond: a zero timer started from a timer callback would run again in the
    // same pass of libuv's timer phase (and so on forever); the ready queue gives one turn.
    yield_to_loop(vu, std::nullopt);
    return;
  }
  uv_timer_start(
      &vu->sleep_timer,
      [](uv_timer_t* timer) {
        auto* user = static_cast<Vu*>(timer->data);
        user->scheduler->complete(user, 0);
      },
      to_ms(seconds), 0);
  wait(vu, PendingOp{[](void* data) { uv_timer_stop(&static_cast<Vu*>(data)->sleep_timer); }, vu});
}

Scheduler::IterationStart Scheduler::begin_iteration(Vu* vu) {
  if (stopping_ || vu->stop_requested || iteration_budget_ == 0) {
    park(vu);
    return IterationStart::Wait;
  }
  if (iterations_per_user_ >= 0 && vu->iterations_started >= iterations_per_user_) return IterationStart::UserDone;
  if (arrivals_) {
    if (auto due_ns = arrivals_->take_waiting(vu)) {
      start_arrival(vu, *due_ns, false);
      return IterationStart::Go;
    }
    arrivals_->add_free(vu);
    wait(vu, PendingOp{[](void* data) {
                         auto* user = static_cast<Vu*>(data);
                         if (ArrivalDispatcher* dispatcher = user->scheduler->arrivals_) dispatcher->remove_free(user);
                       },
                       vu});
    return IterationStart::Wait;
  }
  ++vu->iterations_started;
  stats_->count_iteration_started();
  if (iteration_budget_ > 0) {
    --iteration_budget_;
    ++iterations_in_flight_;
    vu->in_iteration = true;
  }
  vu->in_task = true;
  return IterationStart::Go;
}

void Scheduler::start_arrival(Vu* vu, std::uint64_t scheduled_ns, bool resume_user) {
  const std::uint64_t now = uv_hrtime();
  vu->arrival_iteration = true;
  vu->schedule_lag_ns = now > scheduled_ns ? now - scheduled_ns : 0;
  vu->in_task = true;
  ++vu->iterations_started;
  stats_->count_iteration_started();
  if (!resume_user) return;
  lua_pushboolean(vu->co, 1);
  complete(vu, 1);
}

std::optional<std::uint64_t> Scheduler::schedule_lag_us(const Vu* vu) const {
  if (!arrivals_) return std::nullopt;
  if (!vu || !vu->arrival_iteration) return 0;
  return (vu->schedule_lag_ns + 500) / 1000;
}

bool Scheduler::end_task(Vu* vu, lua_State* L) {
  vu->in_task = false;
  settle_deferred(vu, L);
  end_iteration(vu);
  // The stdlib stops the user now and runs its on_stop: the request is used up, so that a
  // deadline passing during on_stop does not interrupt it to run on_stop a second time.
  const bool go_on = !vu->stop_requested;
  vu->stop_requested = false;
  vu->stop_deadline_ns = 0;
  return go_on;
}

void Scheduler::end_iteration(Vu* vu) {
  if (vu->arrival_iteration) {
    vu->arrival_iteration = false;
    vu->schedule_lag_ns = 0;
    if (arrivals_) arrivals_->on_iteration_ended();
  }
  if (!vu->in_iteration) return;
  vu->in_iteration = false;
  --iterations_in_flight_;
  if (iteration_budget_ == 0 && iterations_in_flight_ == 0 && !exhausted_reported_) {
    exhausted_reported_ = true;
    listener_->on_iterations_exhausted();
  }
}

void Scheduler::defer_until_task_end(Vu* vu, int registry_ref) { vu->deferred_refs.push_back(registry_ref); }

void Scheduler::settle_deferred(Vu* vu, lua_State* L) {
  if (vu->deferred_refs.empty()) return;
  Vu* previous = settling_;
  settling_ = vu;
  while (!vu->deferred_refs.empty()) {
    int ref = vu->deferred_refs.back();
    vu->deferred_refs.pop_back();
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    if (luaL_getmetafield(L, -1, "__cicada_task_end")) {
      lua_insert(L, -2);
      if (lua_pcall(L, 1, 0, 0) != 0) {
        record_exception(error_message(L, -1), "");
        lua_pop(L, 1);
      }
    } else {
      lua_pop(L, 1);
    }
  }
  settling_ = previous;
}

void Scheduler::record_exception(std::string message, std::string traceback) {
  const std::string& script_path = script::thread_context_of(main_)->script_path;
  script::restore_long_source_names(&message, script_path);
  script::restore_long_source_names(&traceback, script_path);
  stats_->record_exception(message, traceback);
}

void Scheduler::cancel_pending(Vu* vu) {
  if (!vu->waiting) return;
  PendingOp op = vu->pending;
  vu->pending = {};
  vu->waiting = false;
  if (op.cancel) op.cancel(op.data);
}

void Scheduler::release_coroutine(Vu* vu) {
  if (vu->co_ref != LUA_NOREF) luaL_unref(main_, LUA_REGISTRYINDEX, vu->co_ref);
  vu->co_ref = LUA_NOREF;
  vu->co = nullptr;
}

void Scheduler::begin_stop(Vu* vu, bool let_task_finish) {
  if (vu->phase != Vu::Phase::Running) return;
  vu->phase = Vu::Phase::Stopping;
  if (let_task_finish && vu->in_task) {
    // The stdlib sees this at the end of the task and runs the user's on_stop itself.
    vu->stop_requested = true;
    return;
  }
  interrupt_and_stop(vu);
}

// Abandons whatever the user's coroutine was doing and runs its on_stop in a fresh one.
void Scheduler::interrupt_and_stop(Vu* vu) {
  vu->stop_requested = false;
  vu->stop_deadline_ns = 0;
  vu->in_task = false;
  cancel_pending(vu);
  settle_deferred(vu, main_);
  end_iteration(vu);
  release_coroutine(vu);
  start_coroutine(vu, hooks_.stop_user);
}

void Scheduler::stop_users(int class_index, int count) {
  const bool let_tasks_finish = stop_timeout_s_ > 0;
  const std::uint64_t deadline = uv_hrtime() + static_cast<std::uint64_t>(stop_timeout_s_ * 1e9);
  // Copy: stopping may finish users (and so edit users_) synchronously. Newest first.
  const std::vector<Vu*> candidates = users_;
  for (std::size_t i = candidates.size(); i-- > 0 && count > 0;) {
    Vu* vu = candidates[i];
    if (vu->class_index != class_index || vu->phase != Vu::Phase::Running) continue;
    --count;
    begin_stop(vu, let_tasks_finish);
    if (vu->stop_requested) vu->stop_deadline_ns = deadline;
  }
  arm_task_deadlines();
}

void Scheduler::arm_task_deadlines() {
  std::uint64_t earliest = 0;
  for (const Vu* vu : users_)
    if (vu->stop_requested && vu->stop_deadline_ns != 0 && (earliest == 0 || vu->stop_deadline_ns < earliest))
      earliest = vu->stop_deadline_ns;
  if (earliest == 0) {
    if (task_deadline_timer_) uv_timer_stop(task_deadline_timer_);
    return;
  }
  if (!task_deadline_timer_) task_deadline_timer_ = new_timer(loop_, this);
  const std::uint64_t now = uv_hrtime();
  const std::uint64_t wait_ns = earliest > now ? earliest - now : 0;
  uv_timer_start(
      task_deadline_timer_, [](uv_timer_t* timer) { static_cast<Scheduler*>(timer->data)->on_task_deadline(); },
      (wait_ns + 999'999) / 1'000'000, 0);
}

void Scheduler::on_task_deadline() {
  const std::uint64_t now = uv_hrtime();
  const std::vector<Vu*> candidates = users_;
  for (Vu* vu : candidates)
    if (vu->phase == Vu::Phase::Stopping && vu->stop_requested && vu->stop_deadline_ns != 0 &&
        vu->stop_deadline_ns <= now)
      interrupt_and_stop(vu);
  arm_task_deadlines();
}

void Scheduler::stop_all(double grace_s) {
  if (stopping_) return;
  stopping_ = true;
  on_stop_grace_s_ = grace_s;
  bool let_tasks_finish = stop_timeout_s_ > 0;
  // Copy: stopping may finish users (and so edit users_) synchronously.
  std::vector<Vu*> running = users_;
  for (Vu* vu : running) begin_stop(vu, let_tasks_finish);
  if (live_users_ > 0) {
    stop_timer_ = new_timer(loop_, this);
    stop_phase_ = let_tasks_finish ? StopPhase::TasksFinishing : StopPhase::OnStopRunning;
    uv_timer_start(
        stop_timer_, [](uv_timer_t* timer) { static_cast<Scheduler*>(timer->data)->on_stop_timer(); },
        to_ms(let_tasks_finish ? stop_timeout_s_ : on_stop_grace_s_), 0);
  }
  check_all_stopped();
}

void Scheduler::on_stop_timer() {
  std::vector<Vu*> remaining = users_;
  if (stop_phase_ == StopPhase::TasksFinishing) {
    // --stop-timeout is over: interrupt the tasks still running; on_stop gets its grace period.
    stop_phase_ = StopPhase::OnStopRunning;
    uv_timer_start(
        stop_timer_, [](uv_timer_t* timer) { static_cast<Scheduler*>(timer->data)->on_stop_timer(); },
        to_ms(on_stop_grace_s_), 0);
    for (Vu* vu : remaining)
      if (vu->stop_requested) interrupt_and_stop(vu);
    return;
  }
  for (Vu* vu : remaining) finish(vu);
}

void Scheduler::finish(Vu* vu) {
  if (vu->phase == Vu::Phase::Done) return;
  bool ended_by_itself = vu->phase == Vu::Phase::Running;
  vu->phase = Vu::Phase::Done;
  cancel_pending(vu);
  settle_deferred(vu, main_);
  end_iteration(vu);
  if (arrivals_) arrivals_->on_user_gone(vu);
  release_coroutine(vu);
  if (vu->self_ref != LUA_NOREF) luaL_unref(main_, LUA_REGISTRYINDEX, vu->self_ref);
  vu->self_ref = LUA_NOREF;

  Vu* last = users_.back();
  users_[vu->slot] = last;
  last->slot = vu->slot;
  users_.pop_back();
  --live_users_;

  int class_index = vu->class_index;
  std::function<void()> on_done = std::move(vu->on_done);
  close_and_delete_user(vu);
  if (on_done) on_done();
  if (ended_by_itself && !stopping_ && class_index >= 0) listener_->on_user_ended(class_index);
  check_all_stopped();
}

void Scheduler::check_all_stopped() {
  if (!stopping_ || live_users_ > 0 || all_stopped_reported_) return;
  all_stopped_reported_ = true;
  close_stop_timer();
  listener_->on_all_stopped();
}

void Scheduler::close_stop_timer() {
  close_and_delete_timer(stop_timer_);
  stop_timer_ = nullptr;
}

void Scheduler::shutdown() {
  stopping_ = true;
  all_stopped_reported_ = true;  // nobody listens any more
  std::vector<Vu*> remaining = users_;
  for (Vu* vu : remaining) finish(vu);
  close_stop_timer();
  close_and_delete_timer(task_deadline_timer_);
  task_deadline_timer_ = nullptr;
  if (ready_idle_) {
    uv_close(reinterpret_cast<uv_handle_t*>(ready_idle_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_idle_t*>(handle); });
    ready_idle_ = nullptr;
  }
}

}  // namespace cicada::vu
