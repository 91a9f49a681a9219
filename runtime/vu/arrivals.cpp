#include "runtime/vu/arrivals.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "runtime/common/log.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/scheduler.h"

namespace cicada::vu {

namespace {

constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

}  // namespace

ArrivalDispatcher::ArrivalDispatcher(uv_loop_t* loop, Scheduler* scheduler, stats::StatsBook* stats,
                                     Listener* listener, Plan plan)
    : loop_(loop),
      scheduler_(scheduler),
      stats_(stats),
      listener_(listener),
      plan_(std::move(plan)),
      max_queue_ns_(static_cast<std::uint64_t>(std::llround(std::max(0.0, plan_.max_queue_time_s) * 1e9))) {
  clock_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (clock_fd_ < 0) {
    common::log_error("timerfd_create failed (%s): the arrival rate cannot be kept", std::strerror(errno));
    return;
  }
  clock_poll_ = new uv_poll_t;
  uv_poll_init(loop_, clock_poll_, clock_fd_);
  clock_poll_->data = this;
  uv_poll_start(clock_poll_, UV_READABLE,
                [](uv_poll_t* poll, int, int) { static_cast<ArrivalDispatcher*>(poll->data)->on_clock(); });
}

ArrivalDispatcher::~ArrivalDispatcher() { close(); }

void ArrivalDispatcher::close() {
  running_ = false;
  if (!clock_poll_) {
    if (clock_fd_ >= 0) ::close(clock_fd_);
    clock_fd_ = -1;
    return;
  }
  uv_poll_stop(clock_poll_);
  // The descriptor stays open until libuv is done with the handle.
  clock_poll_->data = reinterpret_cast<void*>(static_cast<std::intptr_t>(clock_fd_));
  uv_close(reinterpret_cast<uv_handle_t*>(clock_poll_), [](uv_handle_t* handle) {
    ::close(static_cast<int>(reinterpret_cast<std::intptr_t>(handle->data)));
    delete reinterpret_cast<uv_poll_t*>(handle);
  });
  clock_poll_ = nullptr;
  clock_fd_ = -1;
}

void ArrivalDispatcher::spawn_pool(const std::vector<std::pair<int, int>>& batches) {
  spawning_pool_ = true;
  for (auto [class_index, count] : batches)
    for (int i = 0; i < count; ++i) spawn_one(class_index);
  spawning_pool_ = false;
  check_pool_ready();
}

bool ArrivalDispatcher::spawn_one(int class_index) {
  // Counted first: a user without on_start asks for work before spawn() returns.
  ++starting_users_;
  if (scheduler_->spawn(class_index, 1) == 1) return true;
  --starting_users_;
  return false;
}

void ArrivalDispatcher::start(std::uint64_t start_ns) {
  if (stopped_ || running_) return;
  running_ = true;
  start_ns_ = start_ns;
  arm_clock();
  check_exhausted();
}

void ArrivalDispatcher::stop() {
  if (stopped_) return;
  stopped_ = true;
  running_ = false;
  if (!waiting_.empty()) stats_->count_iterations_dropped(waiting_.size());
  waiting_.clear();
  if (clock_fd_ >= 0) {
    itimerspec disarm{};
    timerfd_settime(clock_fd_, 0, &disarm, nullptr);
  }
}

std::uint64_t ArrivalDispatcher::due_ns(double seconds) const {
  return start_ns_ + static_cast<std::uint64_t>(std::llround(seconds * 1e9));
}

void ArrivalDispatcher::on_clock() {
  std::uint64_t expirations = 0;
  while (::read(clock_fd_, &expirations, sizeof expirations) < 0 && errno == EINTR) {
  }
  if (!running_) return;
  const std::uint64_t now = uv_hrtime();
  drop_expired(now);
  // Everything due by now, oldest first. Starting an iteration runs Lua, which may come back
  // here (a user that ends its task at once asks for the next); nothing is cached across it.
  while (running_) {
    const std::optional<double> next = plan_.arrivals.next();
    if (!next || due_ns(*next) > now) break;
    const std::uint64_t scheduled = due_ns(*next);
    plan_.arrivals.advance();
    if (waiting_.empty() && !free_.empty()) {
      Vu* vu = free_.pop_front();
      vu->free_for_arrivals = false;
      ++in_flight_;
      scheduler_->start_arrival(vu, scheduled, true);
    } else {
      waiting_.push_back(scheduled);
      grow_pool();
    }
  }
  drop_expired(now);
  check_exhausted();
  arm_clock();
}

void ArrivalDispatcher::arm_clock() {
  if (!running_ || clock_fd_ < 0) return;
  std::optional<std::uint64_t> wake;
  if (const std::optional<double> next = plan_.arrivals.next()) wake = due_ns(*next);
  // Waiting iterations must be counted as dropped when their time is up, even if no new
  // iteration comes by then.
  if (!waiting_.empty()) {
    const std::uint64_t expiry = waiting_.front() + max_queue_ns_ + 1;
    if (!wake || expiry < *wake) wake = expiry;
  }
  itimerspec when{};
  if (wake) {
    // An absolute time of 0 would disarm the clock: anything already due fires at once.
    const std::uint64_t at = std::max<std::uint64_t>(*wake, 1);
    when.it_value.tv_sec = static_cast<time_t>(at / kNanosPerSecond);
    when.it_value.tv_nsec = static_cast<long>(at % kNanosPerSecond);
  }
  timerfd_settime(clock_fd_, TFD_TIMER_ABSTIME, &when, nullptr);
}

void ArrivalDispatcher::drop_expired(std::uint64_t now_ns) {
  std::uint64_t dropped = 0;
  while (!waiting_.empty() && now_ns > waiting_.front() && now_ns - waiting_.front() > max_queue_ns_) {
    waiting_.pop_front();
    ++dropped;
  }
  if (dropped) stats_->count_iterations_dropped(dropped);
}

void ArrivalDispatcher::grow_pool() {
  // One new user for every waiting iteration no user is on its way for, within --max-users.
  while (static_cast<std::size_t>(starting_users_) < waiting_.size() && next_reserve_ < plan_.reserve_classes.size())
    spawn_one(plan_.reserve_classes[next_reserve_++]);
}

std::optional<std::uint64_t> ArrivalDispatcher::take_waiting(Vu* vu) {
  note_reached_pool(vu);
  if (waiting_.empty()) return std::nullopt;
  drop_expired(uv_hrtime());
  if (waiting_.empty()) return std::nullopt;
  ++in_flight_;
  return waiting_.pop_front();
}

void ArrivalDispatcher::add_free(Vu* vu) {
  vu->free_for_arrivals = true;
  free_.push_back(vu);
}

void ArrivalDispatcher::remove_free(Vu* vu) {
  if (!vu->free_for_arrivals) return;
  vu->free_for_arrivals = false;
  free_.erase(vu);
}

void ArrivalDispatcher::on_iteration_ended() {
  --in_flight_;
  check_exhausted();
}

void ArrivalDispatcher::on_user_gone(Vu* vu) {
  remove_free(vu);
  note_reached_pool(vu);
}

void ArrivalDispatcher::note_reached_pool(Vu* vu) {
  if (vu->reached_pool) return;
  vu->reached_pool = true;
  --starting_users_;
  check_pool_ready();
}

void ArrivalDispatcher::check_pool_ready() {
  if (pool_ready_reported_ || spawning_pool_ || starting_users_ > 0) return;
  pool_ready_reported_ = true;
  listener_->on_pool_ready();
}

void ArrivalDispatcher::check_exhausted() {
  if (!plan_.has_iteration_limit || exhausted_reported_ || !running_) return;
  if (plan_.arrivals.next() || !waiting_.empty() || in_flight_ > 0) return;
  exhausted_reported_ = true;
  listener_->on_arrivals_exhausted();
}

}  // namespace cicada::vu
