#pragma once
// What the coordinator and the worker threads say to each other through their mailboxes.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "runtime/script/lua_value.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/arrival_schedule.h"

namespace cicada::loop {

// --- coordinator -> worker ---
// In the open model, the initial pool (the worker reports PoolReady once it is).
struct SpawnUsers {
  std::vector<std::pair<int, int>> batches;  // (class index, count)
};
// The open model: this thread's part of the arrival schedule. Sent before SpawnUsers.
struct SetupArrivals {
  vu::ArrivalSchedule schedule;
  int threads = 1;
  std::int64_t iteration_limit = -1;  // --iterations (over all threads); -1 = none
  double max_queue_time_s = 10;
  std::vector<int> reserve_classes;  // classes of the users the pool may add, in order
};
// The open model: the schedule's time 0 (uv_hrtime), the same for every thread.
struct StartArrivals {
  std::uint64_t start_ns = 0;
};
struct StopUsers {
  int class_index = 0;
  int count = 0;
};
struct StopAllUsers {
  double grace_s = 10;  // how long on_stop may run before users are cut off
};
struct CollectStats {
  int generation = 0;  // echoed in the StatsReport, so reports from before a reset can be told apart
  int round = 0;       // echoed too: the second closes when every worker has answered its round
};
// --reset-stats: drop what was recorded so far (exceptions excepted).
struct ResetStats {};
struct Shutdown {};
// What cicada.setup() returned, for every user's self.setup_data. Sent before any spawn.
struct SetSetupData {
  std::shared_ptr<const script::LuaValue> value;
};
// A host from a front-end's start (the web form): users started from now on use it.
struct SetHost {
  std::string host;
};
// Tags from a front-end's start (the web form), in place of -T/-E. Sent before any spawn.
struct SetTags {
  std::vector<std::string> tags;
  std::vector<std::string> exclude_tags;
};
using WorkerCommand = std::variant<SpawnUsers, SetupArrivals, StartArrivals, StopUsers, StopAllUsers, CollectStats,
                                   ResetStats, Shutdown, SetSetupData, SetHost, SetTags>;

// --- worker -> coordinator ---
struct WorkerReady {
  int worker = 0;
  std::string error;  // empty when the script loaded
  std::vector<std::string> class_names;
};
struct StatsReport {
  int worker = 0;
  int generation = 0;
  int round = 0;
  std::unique_ptr<stats::StatsBook> delta;
  std::size_t users = 0;
};
struct IterationsExhausted {
  int worker = 0;
};
struct UserEnded {
  int worker = 0;
  int class_index = 0;
};
struct WorkerStopped {
  int worker = 0;
  std::unique_ptr<stats::StatsBook> delta;
};
// The open model: every user of this thread's initial pool has finished its on_start.
struct PoolReady {
  int worker = 0;
};
// cicada.stop_test(reason) was called by a user on this worker.
struct StopTestRequested {
  int worker = 0;
  std::string reason;
};
using WorkerEvent = std::variant<WorkerReady, StatsReport, IterationsExhausted, UserEnded, WorkerStopped,
                                 StopTestRequested, PoolReady>;

}  // namespace cicada::loop
