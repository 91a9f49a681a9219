#include "runtime/dist/locust_worker.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "runtime/common/clock.h"
#include "runtime/common/log.h"

namespace cicada::dist {

using common::log_error;
using common::log_info;
using common::log_warning;
using common::monotonic_s;
using common::unix_now_s;
using control::RunPhase;

namespace {

// Locust's timings (runners.py): a heartbeat a second, stats every 3 s, `client_ready` again
// after 5 s without an `ack`, given up after 60 tries. A worker quits after --master-timeout
// (Locust: 60 s) without a heartbeat from a master that sends them (2.19+).
constexpr double kHeartbeatIntervalS = 1;
constexpr double kReportIntervalS = 3;
constexpr double kConnectTimeoutS = 5;
constexpr int kConnectRetries = 60;
// Exceptions are sent one message each, as Locust's workers do; past this many of one kind in
// a report interval, the rest of that interval's are only counted locally.
constexpr std::uint64_t kExceptionMessagesPerReport = 100;
// Messages keep leaving for this long once the worker closes (the last stats and `quit`).
constexpr int kLingerMs = 2000;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::uint64_t resident_bytes() {
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (!statm) return 0;
  unsigned long long pages = 0, resident = 0;
  const int read = std::fscanf(statm, "%llu %llu", &pages, &resident);
  std::fclose(statm);
  return read == 2 ? resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Locust's node id: the host name, "_", and a random uuid4's 32 hex digits.
std::string make_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "cicada");
  std::random_device random;
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) hex.push_back(kDigits[random() % 16]);
  return std::string(host) + "_" + hex;
}

template <class T>
T* owner_of(uv_timer_t* timer) {
  return static_cast<T*>(timer->data);
}

}  // namespace

const char* LocustWorker::state_name(State state) {
  switch (state) {
    case State::Ready: return "ready";
    case State::Spawning: return "spawning";
    case State::Running: return "running";
    case State::Stopping: return "stopping";
    case State::Quitting: return "stopped";
  }
  return "ready";
}

LocustWorker::LocustWorker(control::RunController& run, WorkerOptions options)
    : run_(run), options_(std::move(options)) {
  if (options_.node_id.empty()) options_.node_id = make_node_id();
  run_.phases().add_listener([this](RunPhase, RunPhase to) { on_phase(to); });
  control::StatsObserver observer;
  observer.on_delta = [this](const stats::StatsBook& delta) { on_delta(delta); };
  observer.on_second = [this] { on_second(); };
  run_.add_stats_observer(std::move(observer));
  for (uv_timer_t* timer : {&heartbeat_timer_, &report_timer_}) {
    uv_timer_init(run_.loop(), timer);
    timer->data = this;
  }
}

LocustWorker::~LocustWorker() {
  close_timers();
  // Destroying the dealer ends its ZeroMQ context, which waits (at most the linger) for the
  // last messages to leave.
  dealer_.reset();
}

void LocustWorker::close_timers() {
  if (timers_closed_) return;
  timers_closed_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&heartbeat_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&report_timer_), nullptr);
}

bool LocustWorker::connect(std::string* error) {
  dealer_ = std::make_unique<ZmqDealer>(run_.loop(), [this](std::string bytes) { on_message(std::move(bytes)); });
  const std::string endpoint = "tcp://" + options_.master_host + ":" + std::to_string(options_.master_port);
  if (!dealer_->connect(endpoint, options_.node_id, error)) return false;
  uv_timer_start(&heartbeat_timer_, [](uv_timer_t* t) { owner_of<LocustWorker>(t)->heartbeat_tick(); },
                 static_cast<std::uint64_t>(kHeartbeatIntervalS * 1000), static_cast<std::uint64_t>(kHeartbeatIntervalS * 1000));
  uv_timer_start(&report_timer_, [](uv_timer_t* t) { owner_of<LocustWorker>(t)->report_tick(); },
                 static_cast<std::uint64_t>(kReportIntervalS * 1000), static_cast<std::uint64_t>(kReportIntervalS * 1000));
  cpu_last_s_ = cpu_seconds();
  wall_last_s_ = monotonic_s();
  ask_to_join();
  log_info("Worker %s connecting to the master at %s", options_.node_id.c_str(), endpoint.c_str());
  return true;
}

template <class PackData>
void LocustWorker::send(std::string_view type, PackData&& pack_data) {
  if (!dealer_ || closed_) return;
  if (!dealer_->send(encode_message(type, options_.node_id, std::forward<PackData>(pack_data))))
    log_warning("Could not queue the '%.*s' message for the master", static_cast<int>(type.size()), type.data());
}

void LocustWorker::send_nil(std::string_view type) {
  send(type, [](auto& packer) { packer.pack_nil(); });
}

// -1 instead of a version: a Locust master of any version since 2.0 accepts it without a
// version warning (boomer does the same).
void LocustWorker::send_client_ready() {
  send("client_ready", [](auto& packer) { packer.pack(-1); });
}

// `client_ready` until an `ack` comes: counted, and timed for the next try.
void LocustWorker::ask_to_join() {
  send_client_ready();
  ++connect_attempts_;
  last_ack_wait_s_ = monotonic_s();
}

void LocustWorker::send_exception(std::string_view message, std::string_view traceback) {
  send("exception", [message, traceback](auto& packer) {
    packer.pack_map(2);
    packer.pack(std::string_view("msg"));
    packer.pack(message);
    packer.pack(std::string_view("traceback"));
    packer.pack(traceback);
  });
}

int LocustWorker::user_count() const {
  int total = 0;
  for (const auto& [name, count] : class_users_) total += count;
  return total;
}

void LocustWorker::on_message(std::string bytes) {
  std::string error;
  std::optional<Message> message = decode_message(bytes, &error);
  if (!message) {
    log_warning("The master sent a message that is not Locust's (%zu bytes): %s; ignored", bytes.size(), error.c_str());
    return;
  }
  const std::string& type = message->type;
  if (type == "ack") {
    if (!acked_) log_info("Connected to the master as %s", options_.node_id.c_str());
    acked_ = true;
  } else if (type == "spawn") {
    send_nil("spawning");
    std::optional<SpawnOrder> order = read_spawn(message->data(), &error);
    if (!order) {
      log_warning("The master sent a bad spawn order: %s; ignored", error.c_str());
      return;
    }
    if (order->timestamp <= last_spawn_timestamp_) {
      log_info("Discarded a spawn order no newer than the previous one");
      return;
    }
    last_spawn_timestamp_ = order->timestamp;
    on_spawn(*order);
  } else if (type == "stop") {
    log_info("The master said stop: stopping the users");
    on_stop();
  } else if (type == "quit") {
    log_info("The master said quit: shutting down");
    on_quit("Quit by the master");
  } else if (type == "reconnect") {
    log_warning("The master asked for a reconnection: connecting again");
    dealer_.reset();
    acked_ = false;
    connect_attempts_ = 0;
    std::string connect_error;
    if (!connect(&connect_error)) give_up(connect_error, 1);
  } else if (type == "heartbeat") {
    master_heard_s_ = monotonic_s();
  } else if (type == "spawning_complete" || type == "update_user_class") {
    // Newer masters (2.25+, 2.29+) tell workers the whole run's counts and class changes; a
    // worker of this script has nothing to do with either.
  } else {
    log_warning("The master sent a message of an unknown type '%s'; ignored", type.c_str());
  }
}

void LocustWorker::on_spawn(const SpawnOrder& order) {
  if (state_ == State::Quitting) return;
  // The master's classes must be the script's: a clear error on both sides otherwise.
  const std::vector<control::UserClassChoice> classes = run_.user_classes();
  for (const auto& [name, count] : order.user_classes_count) {
    bool known = false;
    for (const auto& c : classes) known = known || c.name == name;
    if (known) continue;
    std::string names;
    for (const auto& c : classes) names += (names.empty() ? "" : ", ") + c.name;
    give_up("The master asked for users of the class '" + name + "', which this worker's script does not run "
                "(its classes: " + names + "): the master's and the workers' scripts must declare the same "
                "user classes",
            2);
    return;
  }
  if (state_ == State::Ready) {
    // A new test: what is reported from now on is its own.
    test_start_unix_s_ = unix_now_s();
    pending_.clear();
    pending_delta_.per_second.clear();
    pending_delta_.per_second_total.clear();
  }
  state_ = State::Spawning;
  for (const auto& [name, count] : order.user_classes_count) class_users_[name] = count;
  if (!run_started_) {
    control::LoadRequest load;
    load.class_users = class_users_;
    if (!order.host.empty()) load.host = order.host;
    const control::CommandResult started = run_.start(load);
    if (!started.accepted) {
      give_up("The master's spawn order cannot be run: " + started.message, 2);
      return;
    }
    run_started_ = true;
  } else {
    const control::CommandResult set = run_.set_class_users(class_users_);
    if (!set.accepted) {
      give_up("The master's spawn order cannot be run: " + set.message, 2);
      return;
    }
  }
  // The users start at once when the run is going; a run still starting (setup, test_start)
  // reaches them when it begins.
  complete_pending_ = true;
  if (run_.phases().is(RunPhase::Running)) on_phase(RunPhase::Running);
}

void LocustWorker::on_phase(RunPhase to) {
  if (to == RunPhase::Running && complete_pending_ && state_ == State::Spawning) {
    complete_pending_ = false;
    state_ = State::Running;
    send("spawning_complete", [this](auto& packer) {
      packer.pack_map(2);
      packer.pack(std::string_view("user_classes_count"));
      packer.pack(class_users_);
      packer.pack(std::string_view("user_count"));
      packer.pack(user_count());
    });
  }
  if (to != RunPhase::Stopped || closed_) return;
  // The run is over (the master's quit, a signal, the script's own stop): the last numbers and
  // `quit` go out, then the socket closes and the loop can end.
  for (auto& [name, count] : class_users_) count = 0;
  send_stats();
  send_nil("quit");
  closed_ = true;
  close_timers();
  if (dealer_) dealer_->close(kLingerMs);
}

void LocustWorker::on_stop() {
  if (state_ == State::Quitting || state_ == State::Stopping) return;
  if (state_ == State::Ready || !run_.phases().is_active()) {
    for (auto& [name, count] : class_users_) count = 0;
    if (run_started_) run_.set_class_users(class_users_);
    state_ = State::Stopping;
    finish_stop();
    return;
  }
  state_ = State::Stopping;
  complete_pending_ = false;
  for (auto& [name, count] : class_users_) count = 0;
  run_.set_class_users(class_users_);
  // The threads hand over what their users recorded up to the stop in the stats round after
  // it: the second after the next one closes, everything is in.
  stop_seconds_to_wait_ = 2;
}

void LocustWorker::on_second() {
  if (state_ != State::Stopping || stop_seconds_to_wait_ <= 0) return;
  if (--stop_seconds_to_wait_ == 0) finish_stop();
}

// Locust's order: the users are stopped, then `client_stopped` and `client_ready` (the master
// forgets the worker at the first and takes it back at the second). The numbers up to the stop
// go first, so that the master has all of them before it writes its reports.
void LocustWorker::finish_stop() {
  send_stats();
  send_nil("client_stopped");
  send_client_ready();
  state_ = State::Ready;
}

void LocustWorker::on_quit(const std::string& why) {
  if (state_ == State::Quitting) return;
  state_ = State::Quitting;
  if (run_.phases().is(RunPhase::Stopped)) {
    on_phase(RunPhase::Stopped);
    return;
  }
  // A run that never started ends too, the way every run does (teardown, reports).
  run_.quit(why);
}

void LocustWorker::give_up(const std::string& why, int exit_code) {
  log_error("%s", why.c_str());
  send_exception(why, "");
  if (failure_exit_code_ == 0) failure_exit_code_ = exit_code;
  on_quit(why);
}

void LocustWorker::on_delta(const stats::StatsBook& delta) {
  pending_.merge(delta);
  const auto second = static_cast<std::int64_t>(std::floor(unix_now_s()));
  delta.for_each_entry([this, second](const stats::EntryKey& key, const stats::EntryStats& entry) {
    if (entry.empty()) return;
    auto& counts = pending_delta_.per_second[key][second];
    counts.first += entry.num_requests;
    counts.second += entry.num_failures;
  });
  if (!delta.total().empty()) {
    auto& total = pending_delta_.per_second_total[second];
    total.first += delta.total().num_requests;
    total.second += delta.total().num_failures;
    pending_delta_.last_request_timestamp = unix_now_s();
  }
  send_exceptions(delta);
}

// Locust's workers send each exception as it happens, and the master counts the messages.
void LocustWorker::send_exceptions(const stats::StatsBook& delta) {
  for (const auto& exception : delta.exceptions()) {
    const stats::ExceptionRecord& record = exception.second;  // (clang: no capture of a binding)
    const std::uint64_t messages = std::min(record.count, kExceptionMessagesPerReport);
    for (std::uint64_t i = 0; i < messages; ++i) {
      send_exception(record.message, record.traceback);
    }
  }
}

void LocustWorker::send_stats() {
  pending_delta_.book = &pending_;
  pending_delta_.start_time = test_start_unix_s_ > 0 ? test_start_unix_s_ : unix_now_s();
  pending_delta_.user_classes_count = class_users_;
  pending_delta_.user_count = user_count();
  send("stats", [this](auto& packer) { pack_stats_report(packer, pending_delta_); });
  pending_.clear();
  pending_delta_.per_second.clear();
  pending_delta_.per_second_total.clear();
  pending_delta_.last_request_timestamp = 0;
}

void LocustWorker::report_tick() {
  if (acked_) send_stats();
}

void LocustWorker::heartbeat_tick() {
  const double now = monotonic_s();
  if (!acked_) {
    if (now - last_ack_wait_s_ < kConnectTimeoutS) return;
    if (connect_attempts_ > kConnectRetries) {
      give_up("No master answered at tcp://" + options_.master_host + ":" + std::to_string(options_.master_port) +
                  " after " + std::to_string(connect_attempts_) + " tries",
              1);
      return;
    }
    if (connect_attempts_ >= 3)
      log_warning("No answer from the master at %s:%d yet (try %d of %d)", options_.master_host.c_str(),
                  options_.master_port, connect_attempts_, kConnectRetries);
    ask_to_join();
    return;
  }
  if (master_heard_s_ >= 0 && now - master_heard_s_ > options_.master_timeout_s) {
    master_heard_s_ = -1;
    char waited[32];
    std::snprintf(waited, sizeof waited, "%g", options_.master_timeout_s);
    give_up(std::string("The master sent no heartbeat for ") + waited +
                " s (--master-timeout): it is gone; stopping the users and quitting",
            1);
    return;
  }
  const double cpu = cpu_seconds();
  const double cpu_percent = now > wall_last_s_ ? 100.0 * (cpu - cpu_last_s_) / (now - wall_last_s_) : 0;
  cpu_last_s_ = cpu;
  wall_last_s_ = now;
  send("heartbeat", [this, cpu_percent](auto& packer) {
    packer.pack_map(3);
    packer.pack(std::string_view("state"));
    packer.pack(std::string_view(state_name(state_)));
    packer.pack(std::string_view("current_cpu_usage"));
    packer.pack(cpu_percent);
    packer.pack(std::string_view("current_memory_usage"));
    packer.pack(resident_bytes());
  });
}

}  // namespace cicada::dist
