#include "runtime/dist/locust_master.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <utility>

#include "runtime/common/clock.h"
#include "runtime/common/log.h"

namespace cicada::dist {

using common::log_error;
using common::log_info;
using common::log_warning;
using common::monotonic_s;
using common::unix_now_s;

namespace {

// Locust's timings (runners.py): a worker is `missing` after 3 heartbeats (one a second) it did
// not send; a stop waits for the workers' client_stopped.
constexpr int kHeartbeatLiveness = 3;
constexpr double kHeartbeatIntervalS = 1;
constexpr double kStopMarginS = 3;
constexpr int kLingerMs = 1000;

std::string clock_text(double unix_s) {
  const std::time_t seconds = static_cast<std::time_t>(unix_s);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

std::string string_field(const msgpack::object& map, std::string_view name) {
  if (map.type != msgpack::type::MAP) return "";
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& key = map.via.map.ptr[i].key;
    const msgpack::object& value = map.via.map.ptr[i].val;
    if (key.type == msgpack::type::STR && std::string_view(key.via.str.ptr, key.via.str.size) == name &&
        value.type == msgpack::type::STR)
      return std::string(value.via.str.ptr, value.via.str.size);
  }
  return "";
}

double number_field(const msgpack::object& map, std::string_view name) {
  if (map.type != msgpack::type::MAP) return 0;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object& key = map.via.map.ptr[i].key;
    const msgpack::object& value = map.via.map.ptr[i].val;
    if (key.type != msgpack::type::STR || std::string_view(key.via.str.ptr, key.via.str.size) != name) continue;
    switch (value.type) {
      case msgpack::type::POSITIVE_INTEGER: return static_cast<double>(value.via.u64);
      case msgpack::type::NEGATIVE_INTEGER: return static_cast<double>(value.via.i64);
      case msgpack::type::FLOAT32:
      case msgpack::type::FLOAT64: return std::isfinite(value.via.f64) ? value.via.f64 : 0;
      default: return 0;
    }
  }
  return 0;
}

// A worker that says -1 (cicada's, boomer) or a Locust version from 2.19 on hears the master's
// heartbeats; older Locust workers would log each one as an unknown message.
bool knows_master_heartbeats(const msgpack::object& version) {
  if (version.type == msgpack::type::NEGATIVE_INTEGER) return true;
  if (version.type != msgpack::type::STR) return false;
  const std::string text(version.via.str.ptr, version.via.str.size);
  int major = 0, minor = 0;
  if (std::sscanf(text.c_str(), "%d.%d", &major, &minor) != 2) return false;
  return major > 2 || (major == 2 && minor >= 19);
}

std::string printable(std::string_view id) {
  std::string text;
  for (char c : id.substr(0, 80)) text.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return text;
}

}  // namespace

LocustMaster::LocustMaster(uv_loop_t* loop, MasterOptions options)
    : loop_(loop), options_(std::move(options)), host_(options_.host) {
  uv_timer_init(loop_, &heartbeat_timer_);
  heartbeat_timer_.data = this;
  timer_open_ = true;
}

void LocustMaster::attach(loop::Mailbox<loop::WorkerEvent>* events, std::vector<std::string> class_names) {
  events_ = events;
  class_names_ = std::move(class_names);
  unplaced_.assign(class_names_.size(), 0);
}

LocustMaster::~LocustMaster() {
  if (timer_open_) uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_timer_), nullptr);
  router_.reset();
}

bool LocustMaster::bind(std::string* error) {
  router_ = std::make_unique<ZmqRouter>(
      loop_, [this](std::string identity, std::string bytes) { on_message(std::move(identity), std::move(bytes)); });
  const std::string endpoint = "tcp://" + options_.bind_host + ":" + std::to_string(options_.bind_port);
  if (!router_->bind(endpoint, error)) return false;
  log_info("Master listening for workers on %s", endpoint.c_str());
  return true;
}

void LocustMaster::start() {
  waiting_since_s_ = monotonic_s();
  const auto interval = static_cast<std::uint64_t>(kHeartbeatIntervalS * 1000);
  uv_timer_start(
      &heartbeat_timer_, [](uv_timer_t* t) { static_cast<LocustMaster*>(t->data)->heartbeat_tick(); }, interval,
      interval);
}

// --- the coordinator's commands -----------------------------------------------------------

void LocustMaster::post(loop::WorkerCommand command) {
  std::visit(
      [this](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, loop::SpawnUsers> || std::is_same_v<T, loop::StopUsers> ||
                      std::is_same_v<T, loop::StopAllUsers> || std::is_same_v<T, loop::CollectStats> ||
                      std::is_same_v<T, loop::Shutdown>) {
          handle(c);
        } else if constexpr (std::is_same_v<T, loop::SetHost>) {
          host_ = c.host;
        } else if constexpr (std::is_same_v<T, loop::ResetStats>) {
          // The workers send deltas: forgetting what waits here is the whole reset.
          stats::StatsBook kept;
          kept.merge_exceptions(pending_);
          pending_ = std::move(kept);
        }
        // SetSetupData and SetTags stay here: each worker runs its own cicada.setup() and its
        // own -T/-E. The open model is refused before a master starts (run_plan).
      },
      command);
}

void LocustMaster::handle(const loop::SpawnUsers& command) {
  test_begun_ = true;
  for (const auto& [class_index, count] : command.batches) place(class_index, count);
  send_spawn_orders();
}

void LocustMaster::handle(const loop::StopUsers& command) {
  unplace(command.class_index, command.count);
  send_spawn_orders();
}

void LocustMaster::handle(const loop::StopAllUsers& command) {
  if (stopping_) return;
  stopping_ = true;
  stop_deadline_s_ = monotonic_s() + command.grace_s + kStopMarginS;
  std::fill(unplaced_.begin(), unplaced_.end(), 0);
  for (auto& [id, worker] : workers_) {
    std::fill(worker.users.begin(), worker.users.end(), 0);
    if (worker.missing || worker.stopped) continue;
    send_to(worker, "stop", [](auto& packer) { packer.pack_nil(); });
  }
  finish_stopping();
}

// The stop is over when every worker that ran said client_stopped (having sent its last
// numbers first), went missing, quit, or the deadline passed.
void LocustMaster::finish_stopping() {
  if (!stopping_ || stop_reported_) return;
  const bool all_stopped = std::all_of(workers_.begin(), workers_.end(), [](const auto& w) {
    return w.second.missing || w.second.stopped || w.second.stop_confirmed;
  });
  if (!all_stopped && monotonic_s() < stop_deadline_s_) return;
  if (!all_stopped) {
    for (const auto& [id, worker] : workers_)
      if (!worker.missing && !worker.stopped && !worker.stop_confirmed)
        log_warning("Worker %s (index %d) did not confirm the stop in time; its last numbers may be missing",
                    printable(id).c_str(), worker.index);
  }
  stop_reported_ = true;
  loop::WorkerStopped stopped;
  stopped.worker = 0;
  stopped.delta = std::make_unique<stats::StatsBook>(std::move(pending_));
  pending_ = stats::StatsBook{};
  events_->post(std::move(stopped));
}

void LocustMaster::handle(const loop::CollectStats& command) {
  loop::StatsReport report;
  report.worker = 0;
  report.generation = command.generation;
  report.round = command.round;
  report.delta = std::make_unique<stats::StatsBook>(std::move(pending_));
  pending_ = stats::StatsBook{};
  for (const auto& [id, worker] : workers_) report.users += static_cast<std::size_t>(total_users(worker));
  events_->post(std::move(report));
}

void LocustMaster::handle(const loop::Shutdown&) {
  if (shut_down_) return;
  shut_down_ = true;
  for (auto& [id, worker] : workers_)
    if (!worker.missing) send_to(worker, "quit", [](auto& packer) { packer.pack_nil(); });
  if (timer_open_) {
    timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_timer_), nullptr);
  }
  if (router_) router_->close(kLingerMs);
}

// --- dispatching users over the workers (Locust 2.x: balanced per worker and per class) -----

int LocustMaster::total_users(const Worker& worker) const {
  int total = 0;
  for (int count : worker.users) total += count;
  return total;
}

int LocustMaster::live_worker_count() const {
  int count = 0;
  for (const auto& [id, worker] : workers_) count += in_dispatch(worker) ? 1 : 0;
  return count;
}

void LocustMaster::place(int class_index, int count) {
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= unplaced_.size()) return;
  const auto c = static_cast<std::size_t>(class_index);
  for (int i = 0; i < count; ++i) {
    Worker* least = nullptr;
    for (auto& [id, worker] : workers_) {
      if (!in_dispatch(worker)) continue;
      // The fewest users, then the fewest of this class, then the lowest index.
      if (!least || total_users(worker) < total_users(*least) ||
          (total_users(worker) == total_users(*least) &&
           (worker.users[c] < least->users[c] || (worker.users[c] == least->users[c] && worker.index < least->index))))
        least = &worker;
    }
    if (!least) {
      ++unplaced_[c];
      continue;
    }
    ++least->users[c];
    dirty_.insert(least->id);
  }
}

void LocustMaster::place_all(const std::vector<int>& per_class) {
  for (std::size_t c = 0; c < per_class.size(); ++c) place(static_cast<int>(c), per_class[c]);
}

void LocustMaster::unplace(int class_index, int count) {
  if (class_index < 0 || static_cast<std::size_t>(class_index) >= unplaced_.size()) return;
  const auto c = static_cast<std::size_t>(class_index);
  for (int i = 0; i < count; ++i) {
    if (unplaced_[c] > 0) {
      --unplaced_[c];
      continue;
    }
    Worker* most = nullptr;
    for (auto& [id, worker] : workers_) {
      if (!in_dispatch(worker) || worker.users[c] == 0) continue;
      if (!most || worker.users[c] > most->users[c] ||
          (worker.users[c] == most->users[c] && total_users(worker) > total_users(*most)))
        most = &worker;
    }
    if (!most) break;
    --most->users[c];
    dirty_.insert(most->id);
  }
}

void LocustMaster::rebalance() {
  // Users waiting for a worker go first.
  place_all(std::exchange(unplaced_, std::vector<int>(unplaced_.size(), 0)));
  // Then from the busiest to the least busy, one user at a time, while they differ by two or
  // more: bounded by the user count.
  while (true) {
    Worker* most = nullptr;
    Worker* least = nullptr;
    for (auto& [id, worker] : workers_) {
      if (!in_dispatch(worker)) continue;
      if (!most || total_users(worker) > total_users(*most)) most = &worker;
      if (!least || total_users(worker) < total_users(*least)) least = &worker;
    }
    if (!most || total_users(*most) - total_users(*least) < 2) break;
    // The class the receiver has the fewest of, among those the giver has.
    std::size_t chosen = most->users.size();
    for (std::size_t c = 0; c < most->users.size(); ++c)
      if (most->users[c] > 0 && (chosen == most->users.size() || least->users[c] < least->users[chosen])) chosen = c;
    --most->users[chosen];
    ++least->users[chosen];
    dirty_.insert(most->id);
    dirty_.insert(least->id);
  }
}

void LocustMaster::send_spawn_orders() {
  if (stopping_) {
    dirty_.clear();
    return;
  }
  for (const std::string& id : dirty_) {
    Worker* worker = find(id);
    if (!worker || !in_dispatch(*worker)) continue;
    // Strictly newer than the last order, as a worker ignores any other.
    last_spawn_timestamp_ = std::max(unix_now_s(), last_spawn_timestamp_ + 1e-6);
    const double timestamp = last_spawn_timestamp_;
    send_to(*worker, "spawn", [this, worker, timestamp](auto& packer) {
      packer.pack_map(5);
      packer.pack(std::string_view("timestamp"));
      packer.pack(timestamp);
      packer.pack(std::string_view("user_classes_count"));
      // Every class this run selected (the script's others have no name here).
      packer.pack_map(static_cast<std::uint32_t>(
          std::count_if(class_names_.begin(), class_names_.end(), [](const std::string& n) { return !n.empty(); })));
      for (std::size_t c = 0; c < class_names_.size(); ++c) {
        if (class_names_[c].empty()) continue;
        packer.pack(class_names_[c]);
        packer.pack(worker->users[c]);
      }
      packer.pack(std::string_view("host"));
      if (host_.empty()) {
        packer.pack_nil();
      } else {
        packer.pack(host_);
      }
      packer.pack(std::string_view("stop_timeout"));
      packer.pack(options_.stop_timeout_s);
      packer.pack(std::string_view("parsed_options"));
      packer.pack_map(0);
    });
  }
  dirty_.clear();
}

// --- the workers' messages --------------------------------------------------------------------

template <class PackData>
void LocustMaster::send_to(const Worker& worker, std::string_view type, PackData&& pack_data) {
  if (!router_) return;
  if (!router_->send(worker.id, encode_message(type, worker.id, std::forward<PackData>(pack_data))))
    log_warning("Could not send '%.*s' to worker %s", static_cast<int>(type.size()), type.data(),
                printable(worker.id).c_str());
}

LocustMaster::Worker* LocustMaster::find(const std::string& id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

void LocustMaster::on_message(std::string identity, std::string bytes) {
  if (shut_down_) return;
  std::string error;
  std::optional<Message> message = decode_message(bytes, &error);
  if (!message) {
    log_warning("Worker %s sent a message that is not Locust's (%zu bytes): %s; ignored", printable(identity).c_str(),
                bytes.size(), error.c_str());
    return;
  }
  const std::string& type = message->type;
  if (type == "client_ready") {
    Worker& worker = workers_[identity];
    if (worker.id.empty()) {
      worker.id = identity;
      worker.index = next_index_++;
      worker.users.assign(class_names_.size(), 0);
    }
    on_client_ready(worker, message->data());
    return;
  }
  Worker* worker = find(identity);
  if (!worker) {
    if (type == "heartbeat" && router_) {
      // A worker of an earlier master on this port (this one restarted): it is asked to connect
      // again, and says client_ready (Locust's master sends `reconnect` when it cannot read a
      // worker's message).
      router_->send(identity, encode_message("reconnect", identity, [](auto& packer) { packer.pack_nil(); }));
      return;
    }
    log_warning("Received '%s' from an unknown worker %s; ignored", printable(type).c_str(), printable(identity).c_str());
    return;
  }
  if (type == "heartbeat") {
    on_heartbeat(*worker, message->data());
  } else if (type == "stats") {
    on_stats(*worker, message->data());
  } else if (type == "exception") {
    on_exception(*worker, message->data());
  } else if (type == "spawning") {
    worker->state = "spawning";
  } else if (type == "spawning_complete") {
    worker->state = "running";
  } else if (type == "client_stopped") {
    on_client_stopped(*worker);
  } else if (type == "quit") {
    on_worker_gone(*worker, "quit");
  } else {
    log_warning("Worker %s sent a message of an unknown type '%s'; ignored", printable(identity).c_str(),
                printable(type).c_str());
  }
}

void LocustMaster::on_client_ready(Worker& worker, const msgpack::object& version) {
  // Locust refuses an empty version: a worker older than 2.0.
  const bool empty = version.type == msgpack::type::NIL ||
                     (version.type == msgpack::type::STR && version.via.str.size == 0) ||
                     (version.type == msgpack::type::BOOLEAN && !version.via.boolean);
  if (empty) {
    log_error("A worker older than Locust 2.0 tried to connect (%s); it is not accepted", printable(worker.id).c_str());
    workers_.erase(worker.id);
    return;
  }
  const bool returning = worker.missing || worker.stopped;
  worker.wants_heartbeats = knows_master_heartbeats(version);
  worker.reports_before_stopped = version.type == msgpack::type::NEGATIVE_INTEGER;
  worker.liveness = kHeartbeatLiveness;
  worker.missing = false;
  worker.stopped = false;
  worker.state = "ready";
  std::fill(worker.users.begin(), worker.users.end(), 0);
  send_to(worker, "ack", [&worker](auto& packer) {
    packer.pack_map(1);
    packer.pack(std::string_view("index"));
    packer.pack(worker.index);
  });
  // At once, so that the worker knows from the start that this master sends heartbeats and
  // notices if it disappears at any moment after.
  if (worker.wants_heartbeats) send_to(worker, "heartbeat", [](auto& packer) { packer.pack_map(0); });
  // After the test's stop every worker says client_ready again (Locust's order): nothing to tell.
  if (!stopping_)
    log_info("Worker %s (index %d) %s. %d workers connected.", printable(worker.id).c_str(), worker.index,
             returning ? "is back and ready" : "reported as ready", live_worker_count());
  signal_ready_if_enough();
  if (test_begun_ && !stopping_) {
    rebalance();
    send_spawn_orders();
  }
}

void LocustMaster::signal_ready_if_enough() {
  if (!events_ || ready_signalled_ || live_worker_count() < options_.expect_workers) return;
  ready_signalled_ = true;
  loop::WorkerReady ready;
  ready.worker = 0;
  for (const std::string& name : class_names_)
    if (!name.empty()) ready.class_names.push_back(name);
  events_->post(std::move(ready));
}

void LocustMaster::on_heartbeat(Worker& worker, const msgpack::object& data) {
  worker.liveness = kHeartbeatLiveness;
  const std::string state = string_field(data, "state");
  if (!state.empty()) worker.state = state;
  worker.cpu_percent = number_field(data, "current_cpu_usage");
  const double memory = number_field(data, "current_memory_usage");
  worker.memory_bytes = memory > 0 ? static_cast<std::uint64_t>(memory) : 0;
  if (worker.missing) {
    // Locust: "self-healed"; it gets users again.
    worker.missing = false;
    log_info("Worker %s (index %d) is heard again: it gets users again", printable(worker.id).c_str(), worker.index);
    if (test_begun_ && !stopping_) {
      std::fill(worker.users.begin(), worker.users.end(), 0);
      dirty_.insert(worker.id);
      rebalance();
      send_spawn_orders();
    }
  }
  if (worker.wants_heartbeats) send_to(worker, "heartbeat", [](auto& packer) { packer.pack_map(0); });
}

void LocustMaster::on_stats(Worker& worker, const msgpack::object& data) {
  std::string error;
  int users = worker.reported_users;
  if (!read_stats_report(data, &pending_, &users, &error)) {
    log_warning("Worker %s (index %d) sent a stats report that cannot be read: %s; ignored",
                printable(worker.id).c_str(), worker.index, error.c_str());
    return;
  }
  worker.reported_users = users;
}

void LocustMaster::on_exception(Worker& worker, const msgpack::object& data) {
  const std::string message = string_field(data, "msg");
  if (message.empty()) {
    log_warning("Worker %s sent an exception without a message; ignored", printable(worker.id).c_str());
    return;
  }
  pending_.record_exception(message, string_field(data, "traceback"));
}

void LocustMaster::on_client_stopped(Worker& worker) {
  worker.stopped = true;
  worker.state = "stopped";
  if (stopping_) {
    if (worker.reports_before_stopped) {
      worker.stop_confirmed = true;
      finish_stopping();
    } else {
      // A Locust worker sends what it recorded since its last report when it quits, and then
      // `quit`, which ends its part of the stop (Locust's own master waits 0.5 s for it).
      send_to(worker, "quit", [](auto& packer) { packer.pack_nil(); });
    }
    return;
  }
  log_info("Worker %s (index %d) reported that it has stopped", printable(worker.id).c_str(), worker.index);
  // Stopped on its own while the test runs: the others take its users.
  place_all(std::exchange(worker.users, std::vector<int>(worker.users.size(), 0)));
  send_spawn_orders();
}

// A worker that quit or went missing: its users go to the others; what it reported stays.
void LocustMaster::on_worker_gone(Worker& worker, const std::string& why) {
  const int users = total_users(worker);
  const std::vector<int> orphaned = std::exchange(worker.users, std::vector<int>(worker.users.size(), 0));
  const std::string id = worker.id;
  const int index = worker.index;
  if (why == "quit") {
    workers_.erase(id);
    log_info("Worker %s (index %d) quit. %d workers ready.", printable(id).c_str(), index, live_worker_count());
  } else {
    worker.missing = true;
    worker.state = "missing";
    const std::string note = "Worker " + printable(id) + " (index " + std::to_string(index) + ") was lost at " +
                             clock_text(unix_now_s()) + ": " + why + "; its " + std::to_string(users) +
                             " users were given to the other workers, and what it recorded after its last report "
                             "is lost";
    log_warning("%s", note.c_str());
    pending_.record_exception(note, "");
  }
  if (stopping_) {
    finish_stopping();
    return;
  }
  place_all(orphaned);
  send_spawn_orders();
  if (test_begun_ && live_worker_count() == 0) {
    loop::StopTestRequested stop;
    stop.worker = 0;
    stop.reason = why == "quit" ? "The last worker quit" : "The last worker went missing";
    events_->post(std::move(stop));
  }
}

void LocustMaster::heartbeat_tick() {
  const double now = monotonic_s();
  if (!ready_signalled_) {
    const int connected = live_worker_count();
    log_info("Waiting for workers to be ready, %d of %d connected", connected, options_.expect_workers);
    if (options_.expect_workers_max_wait_s > 0 && now - waiting_since_s_ > options_.expect_workers_max_wait_s) {
      ready_signalled_ = true;
      loop::WorkerReady failed;
      failed.worker = 0;
      failed.error = "Only " + std::to_string(connected) + " of the " + std::to_string(options_.expect_workers) +
                     " workers expected connected within --expect-workers-max-wait";
      events_->post(std::move(failed));
    }
  }
  std::vector<std::string> lost;
  for (auto& [id, worker] : workers_) {
    if (worker.missing) continue;
    if (--worker.liveness < 0) lost.push_back(id);
  }
  for (const std::string& id : lost)
    if (Worker* worker = find(id))
      on_worker_gone(*worker, "no heartbeat for " + std::to_string(kHeartbeatLiveness) + " s");
  finish_stopping();
}

std::vector<loop::RemoteWorkerInfo> LocustMaster::remote_workers() const {
  std::vector<loop::RemoteWorkerInfo> infos;
  for (const auto& [id, worker] : workers_) {
    loop::RemoteWorkerInfo info;
    info.id = id;
    info.index = worker.index;
    info.state = worker.missing ? "missing" : worker.state;
    info.users = worker.missing || worker.stopped ? 0 : worker.reported_users;
    info.cpu_percent = worker.cpu_percent;
    info.memory_bytes = worker.memory_bytes;
    infos.push_back(info);
  }
  std::sort(infos.begin(), infos.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return infos;
}

}  // namespace cicada::dist
