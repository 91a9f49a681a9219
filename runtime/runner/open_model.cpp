#include "runtime/runner/open_model.h"

#include <algorithm>
#include <cmath>

#include "runtime/common/log.h"
#include "runtime/report/text_format.h"
#include "runtime/runner/timers.h"

namespace cicada::runner {

using common::log_info;

OpenModel::OpenModel(const RunPlan& plan, uv_loop_t* loop, LoadModelHost& host)
    : plan_(plan), loop_(loop), host_(host), distribution_(plan.weights, plan.threads, plan.fixed_counts) {
  uv_timer_init(loop, &end_timer_);
  end_timer_.data = this;
}

void OpenModel::begin(const control::LoadRequest&) {
  active_ = true;
  host_.on_spawning();
  const int threads = plan_.threads;
  // Where every user the pool may ever have goes: the first pool_users start now, the rest
  // are each thread's reserve for when no user is free.
  std::vector<std::map<int, int>> initial(static_cast<std::size_t>(threads));
  std::vector<std::vector<int>> reserve(static_cast<std::size_t>(threads));
  worker_users_.assign(static_cast<std::size_t>(threads), 0);
  for (int i = 0; i < plan_.max_pool_users; ++i) {
    auto placement = distribution_.add();
    if (!placement) break;
    const int script_class = plan_.script_class(placement->class_index);
    const auto thread = static_cast<std::size_t>(placement->thread);
    if (i < plan_.pool_users) {
      ++initial[thread][script_class];
      ++worker_users_[thread];
    } else {
      reserve[thread].push_back(script_class);
    }
  }
  for (int t = 0; t < threads; ++t) {
    const auto thread = static_cast<std::size_t>(t);
    loop::SetupArrivals setup;
    setup.schedule = plan_.arrival_schedule;
    setup.threads = threads;
    setup.iteration_limit = plan_.options.iterations;
    setup.max_queue_time_s = plan_.options.max_queue_time_s;
    setup.reserve_classes = std::move(reserve[thread]);
    host_.post(t, std::move(setup));
    loop::SpawnUsers spawn;  // sent even when empty: the worker then reports its pool ready at once
    for (auto [class_index, count] : initial[thread]) spawn.batches.emplace_back(class_index, count);
    host_.post(t, std::move(spawn));
  }
  log_info("Starting a pool of %d user%s for the open model (at most %d, --max-users)", plan_.pool_users,
           plan_.pool_users == 1 ? "" : "s", plan_.max_pool_users);
}

void OpenModel::on_pool_ready(const loop::PoolReady&) {
  if (++workers_pool_ready_ == plan_.threads && active_) start_arrivals();
}

void OpenModel::start_arrivals() {
  // A little ahead, so that every thread has the start time before it is due and all start
  // their first iteration on time.
  constexpr double kStartLeadS = 0.02;
  const double start_s = host_.now_s() + kStartLeadS;
  const auto start_ns = static_cast<std::uint64_t>(std::llround(start_s * 1e9));
  for (int t = 0; t < plan_.threads; ++t) host_.post(t, loop::StartArrivals{start_ns});
  arrivals_started_ = true;
  arrivals_start_s_ = start_s;
  const vu::ArrivalSchedule& schedule = plan_.arrival_schedule;
  if (plan_.load_shape.kind == script::LoadShapeInfo::Kind::Rate) {
    log_info("Starting iterations on the arrival stages of %s (%s s)", plan_.load_shape.where.c_str(),
             report::format_decimal(schedule.length_s(), 3).c_str());
  } else {
    log_info("Starting iterations at a rate of %.2f per second", plan_.options.arrival_rate);
  }
  // The schedule ends with the run time or with its last stage; the test then stops.
  const double length_s = schedule.length_s();
  if (std::isfinite(length_s)) {
    const bool by_run_time = plan_.options.run_time_s > 0 && plan_.options.run_time_s <= length_s;
    start_timer_at(
        loop_, &end_timer_,
        by_run_time ? [](uv_timer_t* t) { owner_of<OpenModel>(t)->host_.begin_stop("Run time limit reached"); }
                    : [](uv_timer_t* t) { owner_of<OpenModel>(t)->host_.begin_stop("The load shape ended"); },
        start_s + length_s);
  }
  host_.on_load_reached(plan_.pool_users);
}

void OpenModel::on_stats_report(const loop::StatsReport& event) {
  if (static_cast<std::size_t>(event.worker) < worker_users_.size())
    worker_users_[static_cast<std::size_t>(event.worker)] = event.users;
}

int OpenModel::running_users() const {
  std::size_t users = 0;
  for (std::size_t count : worker_users_) users += count;
  return static_cast<int>(users);
}

void OpenModel::stop() {
  active_ = false;
  uv_timer_stop(&end_timer_);
  if (arrivals_started_) arrivals_end_s_ = std::max(host_.now_s(), arrivals_start_s_);
}

void OpenModel::close() {
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&end_timer_)))
    uv_close(reinterpret_cast<uv_handle_t*>(&end_timer_), nullptr);
}

void OpenModel::describe(report::RunInfo* info) const {
  const config::RunOptions& options = plan_.options;
  info->users = plan_.pool_users;
  info->arrival_rate = options.arrival_rate;
  info->rate_stages = plan_.load_shape.rate_stages;
  info->max_users = plan_.max_pool_users;
  info->max_queue_time_s = options.max_queue_time_s;
  if (arrivals_started_) {
    const double end_s = arrivals_end_s_ > 0 ? arrivals_end_s_ : host_.now_s();
    const vu::ArrivalSchedule& schedule = plan_.arrival_schedule;
    // The schedule asks for nothing after its end: a stop a moment later changes no rate.
    info->arrivals_duration_s = std::clamp(end_s - arrivals_start_s_, 0.0, schedule.length_s());
    info->iterations_due = schedule.due_before(info->arrivals_duration_s);
    if (options.iterations >= 0)
      info->iterations_due = std::min<std::uint64_t>(info->iterations_due, static_cast<std::uint64_t>(options.iterations));
  }
}

}  // namespace cicada::runner
