#pragma once
// The open model on one worker thread (docs/load-models.md): starts task iterations at the
// times the arrival schedule says, whatever the response times, each on a free user of the
// thread's pool.
//
// An iteration that is due when no user is free waits in a queue (oldest first) for up to
// --max-queue-time and then counts as dropped; while it waits the pool may grow towards
// --max-users. Every iteration records how late it started, and its requests' response times
// count from the scheduled start (the correction for coordinated omission).
//
// The clock is a timerfd polled by the loop: libuv's own timers have millisecond resolution,
// which would start iterations up to a millisecond late and so add up to a millisecond to
// every corrected response time; a timerfd wakes the loop within microseconds. Nothing here
// locks: the dispatcher lives on its worker thread.
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "runtime/vu/arrival_schedule.h"

namespace cicada::stats {
class StatsBook;
}

namespace cicada::vu {

class Scheduler;
struct Vu;

// A FIFO that reuses its storage: after warming up, pushing and popping allocate nothing.
template <class T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  const T& front() const { return items_[head_]; }
  void push_back(T value) {
    if (size_ == items_.size()) grow();
    items_[(head_ + size_) % items_.size()] = std::move(value);
    ++size_;
  }
  T pop_front() {
    T value = std::move(items_[head_]);
    head_ = (head_ + 1) % items_.size();
    --size_;
    return value;
  }
  // Removes the first element equal to `value` (O(n); for the rare cancellations).
  bool erase(const T& value) {
    for (std::size_t i = 0; i < size_; ++i) {
      if (!(items_[(head_ + i) % items_.size()] == value)) continue;
      for (std::size_t j = i; j + 1 < size_; ++j)
        items_[(head_ + j) % items_.size()] = std::move(items_[(head_ + j + 1) % items_.size()]);
      --size_;
      return true;
    }
    return false;
  }
  void clear() { head_ = size_ = 0; }

 private:
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(16, items_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(items_[(head_ + i) % items_.size()]);
    items_.swap(bigger);
    head_ = 0;
  }
  std::vector<T> items_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

class ArrivalDispatcher {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    // Every user of the initial pool has asked for its first iteration (its on_start is done).
    virtual void on_pool_ready() = 0;
    // --iterations: this thread's share has been started (or dropped) and has ended.
    virtual void on_arrivals_exhausted() = 0;
  };

  struct Plan {
    ThreadArrivals arrivals;   // this thread's iterations
    bool has_iteration_limit = false;  // --iterations: report when the share is used up
    double max_queue_time_s = 10;
    std::vector<int> reserve_classes;  // classes of the users the pool may add, in order
  };

  ArrivalDispatcher(uv_loop_t* loop, Scheduler* scheduler, stats::StatsBook* stats, Listener* listener, Plan plan);
  ~ArrivalDispatcher();
  ArrivalDispatcher(const ArrivalDispatcher&) = delete;
  ArrivalDispatcher& operator=(const ArrivalDispatcher&) = delete;

  // Starts the initial pool: (class index, count) pairs.
  void spawn_pool(const std::vector<std::pair<int, int>>& batches);
  // The schedule's time 0, on uv_hrtime()'s clock (CLOCK_MONOTONIC): the same on every thread.
  void start(std::uint64_t start_ns);
  // The test stops: no more iterations start; those still waiting count as dropped.
  void stop();
  // Closes the clock's handles (freed in their close callback).
  void close();

  // --- for the scheduler -----------------------------------------------------------------
  // A user asks for work: the oldest waiting iteration still within --max-queue-time (its
  // scheduled time), or nullopt when none waits (the scheduler then calls add_free).
  std::optional<std::uint64_t> take_waiting(Vu* vu);
  void add_free(Vu* vu);
  void remove_free(Vu* vu);
  void on_iteration_ended();
  void on_user_gone(Vu* vu);

  std::size_t waiting() const { return waiting_.size(); }

 private:
  void on_clock();
  void arm_clock();
  void drop_expired(std::uint64_t now_ns);
  void grow_pool();
  bool spawn_one(int class_index);
  void note_reached_pool(Vu* vu);
  void check_pool_ready();
  void check_exhausted();
  std::uint64_t due_ns(double seconds) const;

  uv_loop_t* loop_;
  Scheduler* scheduler_;
  stats::StatsBook* stats_;
  Listener* listener_;
  Plan plan_;
  std::uint64_t max_queue_ns_;

  Ring<std::uint64_t> waiting_;  // scheduled times of iterations no user was free for
  Ring<Vu*> free_;               // users waiting for an iteration, longest-waiting first
  std::int64_t in_flight_ = 0;
  std::size_t next_reserve_ = 0;
  int starting_users_ = 0;       // spawned, not yet asking for work
  bool spawning_pool_ = false;
  bool pool_ready_reported_ = false;
  bool exhausted_reported_ = false;
  bool running_ = false;
  bool stopped_ = false;
  std::uint64_t start_ns_ = 0;

  int clock_fd_ = -1;
  uv_poll_t* clock_poll_ = nullptr;  // freed (and clock_fd_ closed) in its close callback
};

}  // namespace cicada::vu
