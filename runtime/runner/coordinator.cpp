#include "runtime/runner/coordinator.h"

#include <lua.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "bindings/modules.h"
#include "runtime/common/log.h"
#include "runtime/common/parse.h"
#include "runtime/config/option_table.h"
#include "runtime/http/body_budget.h"
#include "runtime/http/url.h"
#include "runtime/report/console_report.h"
#include "runtime/report/html_report.h"
#include "runtime/report/text_format.h"
#include "runtime/script/source_names.h"

namespace cicada::runner {

using common::log_error;
using common::log_info;
using common::log_warning;

namespace {

constexpr double kStopDeadlineMarginS = 5;
// A worker answers the stats round every second; this long without a word, it is stuck.
constexpr double kSilentWorkerS = 5;
constexpr int kPrintEverySeconds = 2;
constexpr int kExitThresholdFailed = 3;

template <class T>
T* owner_of(void* handle) {
  return static_cast<T*>(static_cast<uv_handle_t*>(handle)->data);
}

void start_timer(uv_timer_t* timer, void (*callback)(uv_timer_t*), double first_s, double repeat_s) {
  uv_timer_start(timer, callback, static_cast<std::uint64_t>(std::llround(first_s * 1000)),
                 static_cast<std::uint64_t>(std::llround(repeat_s * 1000)));
}

// Fires no earlier than `deadline_s` on uv_hrtime()'s clock (libuv's own clock, in whole
// milliseconds, may lag behind it).
void start_timer_at(uv_loop_t* loop, uv_timer_t* timer, void (*callback)(uv_timer_t*), double deadline_s) {
  uv_update_time(loop);
  const double wait_ms = std::ceil(deadline_s * 1000.0) - static_cast<double>(uv_now(loop));
  uv_timer_start(timer, callback, static_cast<std::uint64_t>(std::max(0.0, wait_ms)) + 1, 0);
}

double unix_now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

script::LuaValue number_value(lua_State* L, double n) {
  lua_pushnumber(L, n);
  script::LuaValue value;
  std::string ignored;
  script::LuaValue::copy_from(L, -1, &value, &ignored, "");
  lua_pop(L, 1);
  return value;
}

}  // namespace

Coordinator::Coordinator(config::ResolvedCommand command)
    : command_(std::move(command)), options_(command_.options) {
  uv_loop_init(&loop_);
}

Coordinator::~Coordinator() {
  keys_.close();
  shut_down_workers();
  if (scheduler_) scheduler_->shutdown();
  context_.scheduler = nullptr;
  scheduler_.reset();
  script_.reset();
  if (http_) http_->shutdown();
  // Let libuv run the close callbacks of whatever is left, then release the loop.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

double Coordinator::now_s() const { return static_cast<double>(uv_hrtime()) / 1e9; }

int Coordinator::prepare() {
  http_ = std::make_unique<http::HttpRuntime>(&loop_);
  context_.loop = &loop_;
  context_.is_coordinator = true;
  context_.stats = &coordinator_book_;
  context_.http = http_.get();
  context_.request_stop = [this](const std::string& reason) { begin_stop(reason); };
  script_ = std::make_unique<script::ScriptHost>(&context_, bindings::kNativeModules);
  std::string error;
  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    return 2;
  };
  if (!script_->load(options_.script, &error)) return fail(error);

  // cicada.options{} is the lowest layer of options; the rest was resolved before.
  std::vector<std::pair<std::string, std::string>> script_options;
  if (!script_->script_options(&script_options, &error)) return fail(error);
  std::vector<config::RawOption> script_layer;
  for (auto& [name, value] : script_options)
    script_layer.push_back({config::canonical_option_name(name), value, options_.script + ": cicada.options{}"});
  if (!config::apply_script_layer(command_, script_layer, &options_, &error)) return fail(error);
  context_.host_override = options_.host;
  http_->defaults().tls.verify = !options_.insecure;

  if (!script_->configure(options_.tags, options_.exclude_tags, &error)) return fail(error);
  std::vector<script::UserClassInfo> all;
  if (!script_->user_classes(&all, &error)) return fail(error);
  if (all.empty())
    return fail(options_.script + ": no user classes: declare at least one with cicada.user(\"Name\", {...})");

  if (options_.list_classes) {
    std::printf("Available Users:\n");
    for (const auto& c : all) std::printf("    %s\n", c.name.c_str());
    return 0;
  }
  if (!select_classes(all, &error)) return fail(error);

  threads_ = options_.threads > 0 ? options_.threads : std::max(1, static_cast<int>(uv_available_parallelism()));
  if (!prepare_load_model(&error)) return fail(error);
  if (!check_open_file_limit(open_model_ ? max_pool_users_ : options_.users, &error)) return fail(error);
  std::vector<int> weights, fixed;
  for (const auto& c : classes_) {
    weights.push_back(c.weight);
    fixed.push_back(c.fixed_count);
  }
  distribution_ = std::make_unique<UserDistribution>(weights, threads_, fixed);

  if (options_.show_task_ratio) {
    UserDistribution plan(weights, 1, fixed);
    for (int i = 0; i < std::max(options_.users, 1) && plan.add(); ++i) {
    }
    std::vector<int> counts(all.size(), 0);
    for (std::size_t c = 0; c < classes_.size(); ++c)
      counts[static_cast<std::size_t>(class_index_in_script_[c])] = plan.class_count(static_cast<int>(c));
    std::fputs(script_->task_ratio_report(counts).c_str(), stdout);
    return 0;
  }

  if (!prepare_reports(&error)) return fail(error);

  iteration_budgets_.assign(static_cast<std::size_t>(threads_), -1);
  if (open_model_) {
    // The arrival schedule counts --iterations itself: thread t starts iterations t, t+T, ...
    if (options_.iterations >= 0)
      for (int t = 0; t < threads_; ++t)
        if (vu::ThreadArrivals::share_of(options_.iterations, t, threads_) > 0) ++workers_with_budget_;
  } else if (options_.iterations >= 0) {
    iteration_budgets_ =
        UserDistribution::split_iterations(weights, threads_, options_.users, options_.iterations, fixed);
    workers_with_budget_ = static_cast<int>(std::count_if(iteration_budgets_.begin(), iteration_budgets_.end(),
                                                          [](std::int64_t b) { return b > 0; }));
  }

  scheduler_ = std::make_unique<vu::Scheduler>(&loop_, script_->state(), &coordinator_book_, this,
                                               script_->scheduler_hooks());
  context_.scheduler = scheduler_.get();
  run_action_ref_ = script_->module_function("_run_coordinator_action");
  script_->fire_init(true, -1);
  return -1;
}

bool Coordinator::prepare_load_model(std::string* error) {
  if (!script_->load_shape(&load_shape_, error)) return false;
  using Kind = script::LoadShapeInfo::Kind;
  open_model_ = options_.arrival_rate > 0 || load_shape_.kind == Kind::Rate;
  if (!open_model_) return true;
  if (load_shape_.kind == Kind::Users) {
    *error = load_shape_.where + ": this load shape sets a user count (the closed model), but --arrival-rate asks "
             "for the open model; give cicada.stages entries a rate = ... instead (see docs/load-models.md)";
    return false;
  }
  if (options_.iterations_per_user >= 0) {
    *error = "--iterations-per-user belongs to the closed model: in the open model (--arrival-rate) users serve "
             "iterations as they come; use --iterations or --run-time to end the test";
    return false;
  }
  std::vector<vu::RateSegment> segments;
  if (load_shape_.kind == Kind::Rate) {
    // Each stage ramps linearly from the rate before it; the first from --arrival-rate (k6's startRate).
    double rate = options_.arrival_rate;
    for (auto [duration_s, stage_rate] : load_shape_.rate_stages) {
      segments.push_back({duration_s, rate, stage_rate});
      rate = stage_rate;
    }
  } else {
    segments.push_back({std::numeric_limits<double>::infinity(), options_.arrival_rate, options_.arrival_rate});
  }
  const double end_s = options_.run_time_s > 0 ? options_.run_time_s : std::numeric_limits<double>::infinity();
  arrival_schedule_ = vu::ArrivalSchedule(std::move(segments), end_s);
  // Without -u, enough users for iterations of up to 100 ms at the highest rate (Little's law).
  constexpr double kDefaultPoolSeconds = 0.1;
  pool_users_ = options_.users_given ? options_.users
                                     : static_cast<int>(std::clamp(std::ceil(arrival_schedule_.peak_rate() * kDefaultPoolSeconds),
                                                                   1.0, 10'000.0));
  max_pool_users_ = options_.max_users > 0 ? options_.max_users : pool_users_;
  if (max_pool_users_ < pool_users_) {
    *error = "--max-users " + std::to_string(max_pool_users_) + " is below the " + std::to_string(pool_users_) +
             " users (-u) the pool starts with";
    return false;
  }
  if (max_pool_users_ == 0) {
    *error = "the open model needs users to run iterations: give -u or --max-users above 0";
    return false;
  }
  // Each thread serves its share of the arrivals with its own users: a thread without any
  // would drop every iteration of its share.
  threads_ = std::min(threads_, max_pool_users_);
  return true;
}

// Every user keeps a connection open: say so before the test if they cannot all have one,
// rather than failing connects half-way through the ramp.
bool Coordinator::check_open_file_limit(int users, std::string* error) {
  constexpr int kFilesBesidesUsers = 64 + 8;  // loops, wake-ups, logs and reports, per thread a few
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return true;
  long needed = static_cast<long>(users) + kFilesBesidesUsers + 4L * threads_;
  if (needed <= static_cast<long>(limit.rlim_cur)) return true;
  *error = std::to_string(users) + " users need about " + std::to_string(needed) +
           " open files (one connection each), but this process may open " + std::to_string(limit.rlim_cur) +
           " (ulimit -n; cicada already raised it to the hard limit, ulimit -Hn). Raise the hard limit (as root: "
           "ulimit -Hn, or /etc/security/limits.conf) or run fewer users per process.";
  return false;
}

bool Coordinator::prepare_reports(std::string* error) {
  if (!load_thresholds(error)) return false;
  report::ReportOutputs outputs;
  outputs.csv_prefix = options_.csv_prefix;
  outputs.csv_full_history = options_.csv_full_history;
  if (!options_.html_file.empty())
    outputs.html_file = report::expand_html_placeholders(options_.html_file, open_model_ ? pool_users_ : options_.users,
                                                         options_.spawn_rate, options_.run_time_s);
  outputs.json_file = options_.json_file;
  outputs.junit_file = options_.junit_file;
  outputs.open_model = open_model_;
  reports_ = std::make_unique<report::RunReports>(std::move(outputs));
  if (!reports_->prepare(error)) return false;
  if (options_.csv_full_history && options_.csv_prefix.empty())
    log_warning("--csv-full-history has no effect without --csv PREFIX");
  if (!options_.junit_file.empty() && thresholds_->empty())
    log_warning("--junit: no thresholds are declared, so %s will hold no test case", options_.junit_file.c_str());
  return true;
}

bool Coordinator::load_thresholds(std::string* error) {
  std::vector<script::ScriptThreshold> declared;
  if (!script_->script_thresholds(&declared, error)) return false;
  std::vector<report::Threshold> thresholds;
  for (const script::ScriptThreshold& entry : declared) {
    const std::string where = entry.where + ": cicada.thresholds: [\"" + entry.key + "\"]";
    std::optional<double> delay_s = 0.0;
    if (!entry.delay.empty()) delay_s = common::parse_duration(entry.delay);
    if (!delay_s) {
      *error = where + ": delay needs a duration like 10s, got '" + entry.delay + "'";
      return false;
    }
    for (const std::string& condition : entry.conditions) {
      std::string parse_error;
      auto threshold = report::parse_threshold_parts(entry.key, condition, &parse_error);
      if (!threshold) {
        *error = where + " = \"" + condition + "\": " + parse_error;
        return false;
      }
      threshold->abort_on_fail = entry.abort_on_fail;
      threshold->delay_s = *delay_s;
      threshold->source = entry.where;
      thresholds.push_back(std::move(*threshold));
    }
  }
  // --threshold (and the config file, CICADA_THRESHOLD) override the script on the same metric.
  report::add_threshold_layer(thresholds, options_.thresholds);
  thresholds_ = std::make_unique<report::ThresholdEvaluator>(std::move(thresholds));
  return true;
}

bool Coordinator::select_classes(const std::vector<script::UserClassInfo>& all, std::string* error) {
  // Named classes run even with weight 0 (Locust's way to keep a class for explicit runs);
  // otherwise every class with weight > 0 or a fixed count runs.
  auto add = [&](std::size_t index) {
    if (std::find(class_index_in_script_.begin(), class_index_in_script_.end(), static_cast<int>(index)) !=
        class_index_in_script_.end())
      return;
    classes_.push_back(all[index]);
    class_index_in_script_.push_back(static_cast<int>(index));
  };
  if (options_.user_classes.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].weight > 0 || all[i].fixed_count > 0) add(i);
    if (classes_.empty()) {
      *error = "every user class has weight 0: name the ones to run on the command line";
      return false;
    }
  } else {
    for (const std::string& name : options_.user_classes) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
      if (it == all.end()) {
        std::string known;
        for (const auto& c : all) known += (known.empty() ? "" : ", ") + c.name;
        *error = "unknown user class '" + name + "' (the script defines: " + known + ")";
        return false;
      }
      add(static_cast<std::size_t>(it - all.begin()));
      if (classes_.back().weight == 0) classes_.back().weight = 1;
    }
  }

  // Tag filters may leave a class without tasks: it is left out, as Locust does.
  std::vector<script::UserClassInfo> kept;
  std::vector<int> kept_index;
  for (std::size_t i = 0; i < classes_.size(); ++i) {
    const auto& c = classes_[i];
    if (c.declared_tasks == 0) {
      *error = "user class '" + c.name + "' has no tasks: add one with " + c.name + ":task(weight, function(self) ... end)";
      return false;
    }
    if (c.task_count == 0) {
      log_warning("User class %s has no task left after the tag filters; it will not run", c.name.c_str());
      continue;
    }
    kept.push_back(c);
    kept_index.push_back(class_index_in_script_[i]);
  }
  if (kept.empty()) {
    *error = "no task matches the tag filters (-T/--tags, -E/--exclude-tags)";
    return false;
  }
  classes_ = std::move(kept);
  class_index_in_script_ = std::move(kept_index);

  for (const auto& c : classes_) {
    const std::string& host = options_.host.empty() ? c.host : options_.host;
    if (host.empty()) {
      *error = "no host for user class '" + c.name + "': pass -H/--host http://... or set host= in cicada.user()";
      return false;
    }
    std::string url_error;
    auto url = http::parse_url(host, &url_error);
    if (!url) {
      *error = "bad host for user class '" + c.name + "': " + url_error;
      return false;
    }
    if (default_host_.empty()) default_host_ = host;
  }
  return true;
}

int Coordinator::run() {
  int early_exit = prepare();
  if (early_exit >= 0) return early_exit;

  events_.open(&loop_, [this](std::vector<loop::WorkerEvent>& events) { on_events(events); });
  for (uv_timer_t* timer : {&spawn_timer_, &shape_timer_, &stats_timer_, &run_timer_, &stop_deadline_timer_}) {
    uv_timer_init(&loop_, timer);
    timer->data = this;
  }
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sighup_);
  sigint_.data = sigterm_.data = sighup_.data = this;
  auto signal_callback = [](uv_signal_t* handle, int signum) { owner_of<Coordinator>(handle)->on_signal(signum); };
  uv_signal_start(&sigint_, signal_callback, SIGINT);
  uv_signal_start(&sigterm_, signal_callback, SIGTERM);
  // A closed terminal or a dropped ssh session: stop like SIGTERM, with every report.
  uv_signal_start(&sighup_, signal_callback, SIGHUP);
  handles_open_ = true;

  start_workers();
  if (script_->module_predicate("_has_setup")) {
    run_action("setup", nullptr, [this](const std::string& error) { on_setup_done(error); });
  } else {
    setup_done_ = true;
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  return exit_code_;
}

void Coordinator::start_workers() {
  for (int i = 0; i < threads_; ++i) {
    loop::WorkerConfig config;
    config.index = i;
    config.script_path = options_.script;
    config.host_override = options_.host;
    config.iteration_budget = iteration_budgets_[static_cast<std::size_t>(i)];
    config.iterations_per_user = options_.iterations_per_user;
    config.tags = options_.tags;
    config.exclude_tags = options_.exclude_tags;
    config.stop_timeout_s = options_.stop_timeout_s;
    config.verify_tls = !options_.insecure;
    workers_.push_back(std::make_unique<loop::Worker>(std::move(config), &events_));
  }
  http::BodyBudget::set_limit(static_cast<std::uint64_t>(options_.max_body_memory_mib) << 20);
  worker_last_heard_s_.assign(workers_.size(), now_s());
  worker_done_.assign(workers_.size(), false);
  worker_reported_silent_.assign(workers_.size(), false);
  for (auto& worker : workers_) worker->start();
}

void Coordinator::run_action(const std::string& action, const script::LuaValue* argument,
                             std::function<void(const std::string& error)> done) {
  lua_State* L = script_->state();
  int context_ref = script_->new_coordinator_context(default_host_, action, argument);
  if (context_ref == LUA_NOREF) {
    done("cannot create a context for " + action);
    return;
  }
  // One reference goes to the scheduler, the other lets us read the outcome afterwards.
  lua_rawgeti(L, LUA_REGISTRYINDEX, context_ref);
  int result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  scheduler_->spawn_task(run_action_ref_, context_ref, [this, result_ref, action, done = std::move(done)] {
    lua_State* state = script_->state();
    lua_rawgeti(state, LUA_REGISTRYINDEX, result_ref);
    luaL_unref(state, LUA_REGISTRYINDEX, result_ref);
    lua_getfield(state, -1, "__error");
    std::string error = lua_isstring(state, -1) ? lua_tostring(state, -1) : "";
    lua_pop(state, 1);
    if (action == "setup" && error.empty()) {
      lua_getfield(state, -1, "__result");
      auto value = std::make_shared<script::LuaValue>();
      if (!script::LuaValue::copy_from(state, -1, value.get(), &error, "setup data")) {
        error = "cicada.setup() returned something users cannot share: " + error;
      } else {
        setup_data_ = std::move(value);
      }
      lua_pop(state, 1);
    }
    lua_pop(state, 1);
    done(error);
  });
}

void Coordinator::fire_event(const std::string& event, const script::LuaValue* argument, std::function<void()> done) {
  if (!script_->module_predicate("_has_listeners", event.c_str())) {
    done();
    return;
  }
  run_action(event, argument, [done = std::move(done)](const std::string&) { done(); });
}

void Coordinator::on_setup_done(const std::string& error) {
  setup_done_ = true;
  if (!error.empty()) {
    std::fprintf(stderr, "cicada.setup() failed: %s\n", error.c_str());
    startup_failed_ = true;
  }
  maybe_begin_test();
}

void Coordinator::on_events(std::vector<loop::WorkerEvent>& events) {
  const double now = now_s();
  for (auto& event : events) {
    std::visit(
        [this, now](auto& e) {
          const auto worker = static_cast<std::size_t>(e.worker);
          if (worker < worker_last_heard_s_.size()) worker_last_heard_s_[worker] = now;
          handle(e);
        },
        event);
  }
}

// Once a second: a worker that has not answered for kSilentWorkerS is stuck in a task that
// never gives its event loop a turn (a loop without I/O). It cannot be stopped or asked for its
// numbers; the run warns, and when stopping gives up on it once every other worker is done, so
// that the stop still takes no longer than --stop-timeout + kSilentWorkerS.
void Coordinator::watch_workers() {
  if (phase_ != Phase::Running && phase_ != Phase::Stopping) return;
  const double now = now_s();
  bool all_others_done = true;
  std::vector<std::size_t> silent;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    if (worker_done_[i]) continue;
    const double quiet_s = now - worker_last_heard_s_[i];
    if (quiet_s < kSilentWorkerS) {
      all_others_done = false;
      continue;
    }
    silent.push_back(i);
    if (!worker_reported_silent_[i]) {
      worker_reported_silent_[i] = true;
      log_warning("Worker thread %zu has not answered for %.0f s: %s", i + 1, quiet_s, running_task_text(i).c_str());
    }
  }
  if (phase_ == Phase::Stopping && !silent.empty() && all_others_done &&
      now - stop_began_s_ >= options_.stop_timeout_s + kSilentWorkerS)
    abandon_silent_workers(silent);
}

std::string Coordinator::running_task_text(std::size_t worker) const {
  const common::RunningTask& running = workers_[worker]->running_task();
  const int class_index = running.class_index.load(std::memory_order_relaxed);
  const char* task = running.task.load(std::memory_order_relaxed);
  std::string text = "a task that never gives the event loop a turn (a loop without I/O?)";
  if (!task) return text;
  std::string class_name = "?";
  for (std::size_t i = 0; i < class_index_in_script_.size(); ++i)
    if (class_index_in_script_[i] == class_index) class_name = classes_[i].name;
  return text + ": task '" + task + "' of user class " + class_name;
}

// Workers that will never answer: their numbers since their last answer are lost. Each is
// counted as an exception (so that every report names it and the exit code says it), the
// report is written with what the others sent, and the process ends without joining them.
void Coordinator::abandon_silent_workers(const std::vector<std::size_t>& silent) {
  const double now = now_s();
  for (std::size_t i : silent) {
    const double quiet_s = now - worker_last_heard_s_[i];
    const std::string who = "Worker thread " + std::to_string(i + 1);
    // Silent: stuck in a task. Still answering: its users did not finish stopping (on_stop
    // waiting on a server) within --stop-timeout and the on_stop grace.
    const std::string message =
        quiet_s >= kSilentWorkerS
            ? who + " did not answer for " + std::to_string(static_cast<int>(quiet_s)) + " s and was abandoned: " +
                  running_task_text(i) + "; its numbers since its last answer are lost"
            : who + " did not finish stopping its users within --stop-timeout and the on_stop grace, and was "
                    "abandoned; its numbers since its last answer are lost";
    log_error("%s", message.c_str());
    coordinator_book_.record_exception(message, "");
  }
  close_last_second();
  if (stop_reason_.empty()) stop_reason_ = "Stopped";
  finish_report();
  std::fflush(stdout);
  std::fflush(stderr);
  TerminalKeys::restore_terminal();
  _exit(exit_code_);
}

void Coordinator::handle(loop::WorkerReady& event) {
  if (!event.error.empty()) {
    if (!startup_failed_) std::fprintf(stderr, "%s\n", event.error.c_str());
    startup_failed_ = true;
  } else {
    // Every thread must see the same classes as the coordinator did.
    for (const auto& c : classes_) {
      if (std::find(event.class_names.begin(), event.class_names.end(), c.name) == event.class_names.end()) {
        if (!startup_failed_)
          std::fprintf(stderr, "the script declared different user classes on worker thread %d (missing '%s')\n",
                       event.worker, c.name.c_str());
        startup_failed_ = true;
      }
    }
  }
  ++workers_ready_;
  maybe_begin_test();
}

void Coordinator::maybe_begin_test() {
  if (phase_ != Phase::Starting || workers_ready_ < threads_ || !setup_done_) return;
  if (startup_failed_) {
    abort_startup(2);
    return;
  }
  if (interrupts_ > 0 || !stop_before_start_.empty()) {
    if (!stop_before_start_.empty()) log_info("%s before the test started", stop_before_start_.c_str());
    on_users_stopped();
    return;
  }
  if (setup_data_)
    for (auto& worker : workers_) worker->post(loop::SetSetupData{setup_data_});
  // test_start listeners finish before the first user starts, as in Locust.
  phase_ = Phase::Running;
  fire_event("test_start", nullptr, [this] {
    if (phase_ == Phase::Running) begin_test();
  });
}

void Coordinator::abort_startup(int exit_code) {
  exit_code_ = exit_code;
  phase_ = Phase::Finished;
  shut_down_workers();
  close_handles();
}

void Coordinator::begin_test() {
  started_s_ = now_s();
  started_unix_s_ = unix_now_s();
  reports_->begin();
  stats_.set_start_time(started_s_);
  stats_.note_time(started_s_);
  log_info("Starting cicada %s with %d worker thread%s", CICADA_VERSION, threads_, threads_ == 1 ? "" : "s");
  start_timer(&stats_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->stats_tick(); }, 1, 1);
  if (open_model_) {
    // The run time counts from the first scheduled iteration (start_arrivals).
    begin_pool();
    return;
  }
  if (options_.run_time_s > 0) {
    start_timer(
        &run_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->begin_stop("Run time limit reached"); },
        options_.run_time_s, 0);
  }
  if (load_shape_.kind == script::LoadShapeInfo::Kind::Users) {
    if (options_.users_given)
      log_warning("-u/--users does not apply: the load shape of %s sets the user count", load_shape_.where.c_str());
    // Locust calls a shape's tick() once a second, the first time at once.
    start_timer(&shape_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->shape_tick(); }, 0, 1);
  } else {
    set_user_target(options_.users, options_.spawn_rate, {});
    // Locust's keys, for a test at a fixed user count (a shape decides the count itself).
    keys_.start(&loop_, [this](TerminalKeys::Key key) { on_key(key); });
  }
  if (options_.iterations >= 0 && workers_with_budget_ == 0) begin_stop("Iteration limit reached");
}

void Coordinator::set_user_target(int users, double spawn_rate, const std::vector<bool>& classes) {
  if (phase_ != Phase::Running || !ramp_.set_target(users, spawn_rate, classes, now_s())) return;
  log_info("Ramping to %d users at a rate of %.2f per second", users, spawn_rate);
  ramping_down_ = users < distribution_->live_total();
  ramping_ = true;
  start_timer(&spawn_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->spawn_tick(); }, 0, ramp_.tick_s());
}

void Coordinator::spawn_tick() {
  if (phase_ != Phase::Running || !ramping_) return;
  RampStep step = ramp_.step(now_s(), *distribution_);
  auto script_class = [this](int selected) { return class_index_in_script_[static_cast<std::size_t>(selected)]; };
  for (auto& [thread, counts] : step.spawn) {
    loop::SpawnUsers command;
    for (auto [class_index, count] : counts) command.batches.emplace_back(script_class(class_index), count);
    workers_[static_cast<std::size_t>(thread)]->post(std::move(command));
  }
  for (auto& [thread, counts] : step.stop)
    for (auto [class_index, count] : counts)
      workers_[static_cast<std::size_t>(thread)]->post(loop::StopUsers{script_class(class_index), count});
  if (step.capped)
    log_warning("Only %d users can run: every selected class has a fixed_count and all are reached",
                distribution_->total());
  if (step.reached) on_ramp_reached();
}

void Coordinator::on_ramp_reached() {
  uv_timer_stop(&spawn_timer_);
  ramping_ = false;
  // Locust's line after a ramp up; a ramp down says so.
  const int ended = distribution_->total() - distribution_->live_total();
  const std::string ended_note = ended > 0 ? ", " + std::to_string(ended) + " more ended on their own" : "";
  log_info("%s: %s (%d total users%s)", ramping_down_ ? "Ramped down" : "All users spawned", class_mix().c_str(),
           distribution_->live_total(), ended_note.c_str());
  script::LuaValue count = number_value(script_->state(), distribution_->live_total());
  fire_event("spawning_complete", &count, [] {});
  on_all_users_running();
  stop_if_all_users_ended();
}

// The first time the load is fully up (the ramp reached its target, or the open model's
// schedule starts): thresholds may now abort on averages, and --reset-stats resets.
void Coordinator::on_all_users_running() {
  if (spawning_complete_) return;
  spawning_complete_ = true;
  if (!options_.reset_stats) return;
  log_info("Resetting stats");
  ++stats_generation_;
  for (auto& worker : workers_) worker->post(loop::ResetStats{});
  stats_.reset(now_s());
  reports_->reset();
  stats_reset_done_ = true;
  fire_event("reset_stats", nullptr, [] {});
}

void Coordinator::shape_tick() {
  if (phase_ != Phase::Running) return;
  script::ShapeTick tick;
  std::string error;
  if (!script_->shape_tick(now_s() - started_s_, &tick, &error)) {
    report_coordinator_error(error);
    begin_stop("The load shape failed");
    return;
  }
  if (tick.ended) {
    begin_stop("The load shape ended");
    return;
  }
  std::vector<bool> active;
  if (!tick.classes.empty()) {
    active.assign(classes_.size(), false);
    for (const std::string& name : tick.classes) {
      auto it = std::find_if(classes_.begin(), classes_.end(), [&](const auto& c) { return c.name == name; });
      if (it == classes_.end()) {
        const std::string message = "the load shape (" + load_shape_.where + ") named the user class '" + name +
                                    "', which is not running (" + class_mix() + ")";
        log_error("%s", message.c_str());
        coordinator_book_.record_exception(message, "");
        begin_stop("The load shape failed");
        return;
      }
      active[static_cast<std::size_t>(it - classes_.begin())] = true;
    }
  }
  set_user_target(tick.users, tick.spawn_rate, active);
}

void Coordinator::on_key(TerminalKeys::Key key) {
  using Key = TerminalKeys::Key;
  if (key == Key::Interrupt) {
    on_signal(SIGINT);
    return;
  }
  const int change = key == Key::AddOne ? 1 : key == Key::AddTen ? 10 : key == Key::RemoveOne ? -1 : -10;
  set_user_target(std::max(0, ramp_.target() + change), options_.spawn_rate, ramp_.classes());
}

void Coordinator::begin_pool() {
  // Where every user the pool may ever have goes: the first pool_users_ start now, the rest
  // are each thread's reserve for when no user is free.
  std::vector<std::map<int, int>> initial(static_cast<std::size_t>(threads_));
  std::vector<std::vector<int>> reserve(static_cast<std::size_t>(threads_));
  worker_users_.assign(static_cast<std::size_t>(threads_), 0);
  for (int i = 0; i < max_pool_users_; ++i) {
    auto placement = distribution_->add();
    if (!placement) break;
    const int script_class = class_index_in_script_[static_cast<std::size_t>(placement->class_index)];
    const auto thread = static_cast<std::size_t>(placement->thread);
    if (i < pool_users_) {
      ++initial[thread][script_class];
      ++worker_users_[thread];
    } else {
      reserve[thread].push_back(script_class);
    }
  }
  for (int t = 0; t < threads_; ++t) {
    const auto thread = static_cast<std::size_t>(t);
    loop::SetupArrivals setup;
    setup.schedule = arrival_schedule_;
    setup.threads = threads_;
    setup.iteration_limit = options_.iterations;
    setup.max_queue_time_s = options_.max_queue_time_s;
    setup.reserve_classes = std::move(reserve[thread]);
    workers_[thread]->post(std::move(setup));
    loop::SpawnUsers spawn;  // sent even when empty: the worker then reports its pool ready at once
    for (auto [class_index, count] : initial[thread]) spawn.batches.emplace_back(class_index, count);
    workers_[thread]->post(std::move(spawn));
  }
  log_info("Starting a pool of %d user%s for the open model (at most %d, --max-users)", pool_users_,
           pool_users_ == 1 ? "" : "s", max_pool_users_);
}

void Coordinator::handle(loop::PoolReady&) {
  if (++workers_pool_ready_ == threads_ && phase_ == Phase::Running) start_arrivals();
}

void Coordinator::start_arrivals() {
  // A little ahead, so that every thread has the start time before it is due and all start
  // their first iteration on time.
  constexpr double kStartLeadS = 0.02;
  const double start_s = now_s() + kStartLeadS;
  const auto start_ns = static_cast<std::uint64_t>(std::llround(start_s * 1e9));
  for (auto& worker : workers_) worker->post(loop::StartArrivals{start_ns});
  arrivals_started_ = true;
  arrivals_start_s_ = start_s;
  if (load_shape_.kind == script::LoadShapeInfo::Kind::Rate) {
    log_info("Starting iterations on the arrival stages of %s (%s s)", load_shape_.where.c_str(),
             report::format_decimal(arrival_schedule_.length_s(), 3).c_str());
  } else {
    log_info("Starting iterations at a rate of %.2f per second", options_.arrival_rate);
  }
  // The schedule ends with the run time or with its last stage; the test then stops.
  const double length_s = arrival_schedule_.length_s();
  if (std::isfinite(length_s)) {
    const bool by_run_time = options_.run_time_s > 0 && options_.run_time_s <= length_s;
    start_timer_at(
        &loop_, &run_timer_,
        by_run_time ? [](uv_timer_t* t) { owner_of<Coordinator>(t)->begin_stop("Run time limit reached"); }
                    : [](uv_timer_t* t) { owner_of<Coordinator>(t)->begin_stop("The load shape ended"); },
        start_s + length_s);
  }
  script::LuaValue count = number_value(script_->state(), pool_users_);
  fire_event("spawning_complete", &count, [] {});
  on_all_users_running();
  if (options_.iterations >= 0 && workers_with_budget_ == 0) begin_stop("Iteration limit reached");
}

std::string Coordinator::class_mix() const {
  std::string mix = "{";
  for (std::size_t i = 0; i < classes_.size(); ++i) {
    if (i) mix += ", ";
    mix += "\"" + classes_[i].name + "\": " + std::to_string(distribution_->live_class_count(static_cast<int>(i)));
  }
  return mix + "}";
}

// An error of the script's coordinator code (teardown, the load shape): logged, and counted
// like a task's (its first line is the message, the rest the traceback).
void Coordinator::report_coordinator_error(std::string error) {
  script::restore_long_source_names(&error, options_.script);
  log_error("%s", error.c_str());
  const std::size_t line_end = error.find('\n');
  coordinator_book_.record_exception(error.substr(0, line_end),
                                     line_end == std::string::npos ? "" : error.substr(line_end + 1));
}

void Coordinator::merge_coordinator_exceptions() {
  stats_.merge_exceptions(coordinator_book_);
  coordinator_book_.clear();
}

// Once a second every worker hands over what it recorded; the second closes when all have
// answered, so each one-second bucket holds exactly that second's requests (a worker that does
// not answer before the next tick does not hold the report back: the second closes then).
namespace {

// A request name with its ids blanked: runs of digits, and of hex digits long enough to be an
// id (UUIDs, hashes), become "{id}". Names that differ only in their ids share a shape.
std::string name_shape(std::string_view name) {
  std::string shape;
  std::size_t i = 0;
  while (i < name.size()) {
    std::size_t j = i;
    bool digit = false;
    while (j < name.size() && (std::isxdigit(static_cast<unsigned char>(name[j])) || name[j] == '-')) {
      digit = digit || std::isdigit(static_cast<unsigned char>(name[j]));
      ++j;
    }
    const std::size_t run = j - i;
    const bool all_digits = run > 0 && std::all_of(name.begin() + static_cast<std::ptrdiff_t>(i),
                                                   name.begin() + static_cast<std::ptrdiff_t>(j),
                                                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (run > 0 && digit && (all_digits || run >= 8)) {
      shape += "{id}";
      i = j;
    } else if (run > 0) {
      shape.append(name.substr(i, run));
      i = j;
    } else {
      shape.push_back(name[i++]);
    }
  }
  return shape;
}

}  // namespace

// Every distinct (method, name) is a stats entry with its own histogram: names that carry ids
// (`/items/123`) make one per id, memory grows with them and the report is unreadable. Locust
// users meet the same wall; the fix is the same: `name =`.
void Coordinator::check_entry_count() {
  constexpr std::size_t kManyEntries = 1000;
  if (entries_warned_) return;
  std::size_t count = 0;
  std::map<std::string, std::pair<std::size_t, std::string>> shapes;  // shape -> (entries, an example)
  stats_.book().for_each_entry([&](const stats::EntryKey& key, const stats::EntryStats&) {
    ++count;
    auto& [entries, example] = shapes[key.method + " " + name_shape(key.name)];
    if (entries++ == 0) example = key.method + " " + key.name;
  });
  if (count <= kManyEntries) return;
  entries_warned_ = true;
  std::vector<std::pair<std::size_t, std::string>> largest;
  for (const auto& [shape, info] : shapes)
    if (info.first > 1) largest.emplace_back(info.first, shape + " (e.g. " + info.second + ")");
  std::sort(largest.rbegin(), largest.rend());
  std::string names;
  for (std::size_t i = 0; i < largest.size() && i < 3; ++i)
    names += "\n  " + std::to_string(largest[i].first) + " names like " + largest[i].second;
  log_warning("%zu distinct request names so far: each is a stats entry of its own (memory, and an unreadable "
              "report). Names that carry ids should be grouped with the request's name option, e.g. "
              "self.client:get(\"/items/\" .. id, { name = \"/items/[id]\" }).%s",
              count, names.c_str());
}

void Coordinator::stats_tick() {
  watch_workers();
  check_entry_count();
  if (stats_round_open_) close_stats_second();
  ++stats_round_;
  stats_replies_pending_ = workers_.size();
  stats_round_open_ = true;
  for (auto& worker : workers_) worker->post(loop::CollectStats{stats_generation_, stats_round_});
  if (workers_.empty()) close_stats_second();
}

void Coordinator::close_stats_second() {
  stats_round_open_ = false;
  stats_.note_time(now_s());
  stats_.close_second();
  merge_coordinator_exceptions();
  reports_->on_second(stats_, unix_now_s(), running_users());
  check_thresholds();
  // Printed right after a second closes so the current rates include it (Locust: every 2 s).
  if (++stats_ticks_ % kPrintEverySeconds == 0) print_tick();
}

void Coordinator::print_tick() {
  // Locust's --only-summary; --print-stats asks for what a headless run does anyway.
  if (phase_ != Phase::Running || options_.only_summary) return;
  std::string table = report::stats_table(stats_, true);
  if (open_model_) table += report::current_iterations_line(stats_);
  std::FILE* out = table_stream();
  std::fwrite(table.data(), 1, table.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

int Coordinator::running_users() const {
  if (!distribution_ || phase_ == Phase::Reporting || phase_ == Phase::Finished) return 0;
  if (open_model_) {
    std::size_t users = 0;
    for (std::size_t count : worker_users_) users += count;
    return static_cast<int>(users);
  }
  return distribution_->live_total();
}

void Coordinator::check_thresholds() {
  if (phase_ != Phase::Running) return;
  report::ThresholdEvaluator::Moment moment;
  moment.elapsed_s = now_s() - started_s_;
  moment.all_users_running = spawning_complete_;
  moment.stats_final = !options_.reset_stats || stats_reset_done_;
  if (const report::Threshold* broken = thresholds_->check_abort(stats_, moment))
    begin_stop("Threshold '" + broken->text() + "' failed (abort_on_fail)");
}

void Coordinator::handle(loop::StatsReport& event) {
  if (open_model_ && static_cast<std::size_t>(event.worker) < worker_users_.size())
    worker_users_[static_cast<std::size_t>(event.worker)] = event.users;
  if (event.delta) {
    if (event.generation == stats_generation_) {
      stats_.merge_delta(*event.delta);
      reports_->add_delta(*event.delta);
    } else {
      // Asked for before --reset-stats: the ramp-up's requests go, its exceptions stay.
      stats_.merge_exceptions(*event.delta);
    }
  }
  if (stats_round_open_ && event.round == stats_round_ && --stats_replies_pending_ == 0) close_stats_second();
}

void Coordinator::handle(loop::IterationsExhausted&) {
  if (++workers_exhausted_ >= workers_with_budget_) begin_stop("Iteration limit reached");
}

void Coordinator::handle(loop::UserEnded& event) {
  ++users_ended_;
  if (open_model_) return;  // the pool may grow again; the schedule decides when the test ends
  // The user keeps its place in the plan, so that the ramp does not replace it (as in Locust).
  // A ramp-down may have taken it from the plan already.
  const auto selected = std::find(class_index_in_script_.begin(), class_index_in_script_.end(), event.class_index);
  if (selected != class_index_in_script_.end())
    distribution_->mark_ended(static_cast<int>(selected - class_index_in_script_.begin()), event.worker);
  stop_if_all_users_ended();
}

// With a fixed user count, the test ends once every user has ended on its own (stop_user,
// --iterations-per-user); a load shape decides the end itself.
void Coordinator::stop_if_all_users_ended() {
  if (phase_ == Phase::Running && !open_model_ && load_shape_.kind == script::LoadShapeInfo::Kind::None &&
      spawning_complete_ && !ramping_ && users_ended_ > 0 && distribution_->live_total() == 0)
    begin_stop("All users have stopped");
}

void Coordinator::handle(loop::StopTestRequested& event) { begin_stop(event.reason); }

void Coordinator::handle(loop::WorkerStopped& event) {
  if (event.delta) {
    stats_.merge_delta(*event.delta);
    reports_->add_delta(*event.delta);
  }
  if (static_cast<std::size_t>(event.worker) < worker_done_.size()) worker_done_[static_cast<std::size_t>(event.worker)] = true;
  if (++workers_stopped_ >= threads_) on_users_stopped();
}

void Coordinator::begin_stop(const std::string& reason) {
  if (phase_ == Phase::Starting) {
    if (stop_before_start_.empty()) stop_before_start_ = reason;
    return;
  }
  if (phase_ != Phase::Running) return;
  phase_ = Phase::Stopping;
  stop_began_s_ = now_s();
  stop_reason_ = reason;
  log_info("%s, stopping users", reason.c_str());
  uv_timer_stop(&spawn_timer_);
  uv_timer_stop(&shape_timer_);
  uv_timer_stop(&run_timer_);
  if (arrivals_started_) arrivals_end_s_ = std::max(now_s(), arrivals_start_s_);
  fire_event("test_stopping", nullptr, [] {});
  for (auto& worker : workers_) worker->post(loop::StopAllUsers{options_.on_stop_grace_s});
  // Workers that still answer but do not finish (on_stop making requests to a server that
  // hangs) get the on_stop grace; past it, the report is written with what they sent.
  double deadline = options_.stop_timeout_s + options_.on_stop_grace_s + kStopDeadlineMarginS;
  start_timer(
      &stop_deadline_timer_,
      [](uv_timer_t* t) {
        auto* self = owner_of<Coordinator>(t);
        std::vector<std::size_t> unfinished;
        for (std::size_t i = 0; i < self->workers_.size(); ++i)
          if (!self->worker_done_[i]) unfinished.push_back(i);
        self->abandon_silent_workers(unfinished);
      },
      deadline, 0);
}

// The run is ending: the once-a-second stats stop and the second in progress goes into the
// reports.
void Coordinator::close_last_second() {
  uv_timer_stop(&stats_timer_);
  stats_.note_time(now_s());
  stats_.close_second();
  check_entry_count();  // a short run may end before its first stats tick
  if (started_unix_s_ > 0) reports_->on_second(stats_, unix_now_s(), running_users());
}

// Users are gone: test_stop listeners, then teardown, then the report, then quitting.
void Coordinator::on_users_stopped() {
  if (phase_ == Phase::Reporting || phase_ == Phase::Finished) return;
  phase_ = Phase::Reporting;
  uv_timer_stop(&stop_deadline_timer_);
  close_last_second();
  if (stop_reason_.empty()) stop_reason_ = stop_before_start_.empty() ? "Interrupted before the test started"
                                                                      : stop_before_start_ + " before the test started";
  fire_event("test_stop", nullptr, [this] {
    auto after_teardown = [this](const std::string& error) {
      if (!error.empty()) report_coordinator_error("cicada.teardown() failed: " + error);
      finish_report();
      fire_event("quitting", nullptr, [this] {
        phase_ = Phase::Finished;
        shut_down_workers();
        close_handles();
      });
    };
    if (script_->module_predicate("_has_teardown")) {
      run_action("teardown", nullptr, after_teardown);
    } else {
      after_teardown("");
    }
  });
}

void Coordinator::finish_report() {
  merge_coordinator_exceptions();
  const stats::StatsBook& book = stats_.book();
  const std::vector<report::ThresholdResult> thresholds = thresholds_->evaluate(stats_);
  const bool thresholds_failed = std::any_of(thresholds.begin(), thresholds.end(),
                                             [](const report::ThresholdResult& r) { return !r.passed; });
  // A run that sent requests and got no answer to any of them tested nothing: a failure, said.
  std::uint64_t in_flight = 0;
  for (const auto& [key, entry] : book.in_flight_at_stop()) in_flight += entry.count;
  const bool nothing_answered = book.total().num_requests == 0 && in_flight > 0;
  if (nothing_answered)
    log_error("No request completed: %llu %s still waiting for an answer at the stop (a server that never answers?)",
              static_cast<unsigned long long>(in_flight), in_flight == 1 ? "was" : "were");
  const bool failed = book.total().num_failures > 0 || !book.exceptions().empty() || nothing_answered;
  // A failed threshold is the explicit verdict of the run, so it wins over failed requests.
  exit_code_ = thresholds_failed ? kExitThresholdFailed : failed ? options_.exit_code_on_error : 0;

  const report::RunInfo info = run_info();
  std::string out = report::stats_table(stats_, false);
  out += "\n";
  out += report::percentile_table(stats_);
  out += "\n";
  if (open_model_) {
    out += report::service_percentile_table(stats_);
    out += "\n";
    out += report::iterations_report(info, stats_);
  }
  out += report::error_report(stats_);
  out += report::in_flight_report(stats_);
  out += report::exception_report(stats_);
  out += report::threshold_table(thresholds);
  std::FILE* tables = table_stream();
  std::fwrite(out.data(), 1, out.size(), tables);
  std::fflush(tables);

  const std::string json = reports_->finish(info, stats_, thresholds);
  if (options_.json) {
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fflush(stdout);
  }
  log_info("Shutting down (exit code %d)", exit_code_);
}

report::RunInfo Coordinator::run_info() const {
  report::RunInfo info;
  info.script = options_.script;
  info.host = options_.host.empty() ? default_host_ : options_.host;
  // `cicada run x.lua ...` reaches us as {"run", "x.lua", ...}; `cicada -f x.lua` with the program.
  info.command_line.push_back("cicada");
  const auto& argv = command_.argv;
  if (!argv.empty())
    info.command_line.insert(info.command_line.end(), argv.begin() + (argv.front() == "run" ? 0 : 1), argv.end());
  for (const auto& c : classes_) info.user_classes.push_back(c.name);
  info.users = options_.users;
  info.spawn_rate = options_.spawn_rate;
  info.run_time_s = options_.run_time_s;
  info.iterations = options_.iterations;
  info.threads = threads_;
  info.start_unix_s = started_unix_s_;
  info.end_unix_s = unix_now_s();
  info.duration_s = stats_.duration_s();
  info.stop_reason = stop_reason_;
  info.exit_code = exit_code_;
  info.load_shape = load_shape_.where;
  info.iterations_per_user = options_.iterations_per_user;
  info.open_model = open_model_;
  if (open_model_) {
    info.users = pool_users_;
    info.arrival_rate = options_.arrival_rate;
    info.rate_stages = load_shape_.rate_stages;
    info.max_users = max_pool_users_;
    info.max_queue_time_s = options_.max_queue_time_s;
    if (arrivals_started_) {
      const double end_s = arrivals_end_s_ > 0 ? arrivals_end_s_ : now_s();
      // The schedule asks for nothing after its end: a stop a moment later changes no rate.
      info.arrivals_duration_s = std::clamp(end_s - arrivals_start_s_, 0.0, arrival_schedule_.length_s());
      info.iterations_due = arrival_schedule_.due_before(info.arrivals_duration_s);
      if (options_.iterations >= 0)
        info.iterations_due = std::min<std::uint64_t>(info.iterations_due, static_cast<std::uint64_t>(options_.iterations));
    }
  }
  return info;
}

void Coordinator::shut_down_workers() {
  // Workers post to our mailbox until they have shut down: join them before it closes.
  for (auto& worker : workers_) worker->post(loop::Shutdown{});
  for (auto& worker : workers_) worker->join();
  workers_.clear();
}

void Coordinator::on_signal(int signum) {
  ++interrupts_;
  if (interrupts_ > 1) {
    const char message[] = "Second interrupt: exiting now without a report\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    TerminalKeys::restore_terminal();
    _exit(130);
  }
  const char* what = signum == SIGINT    ? "Interrupted (SIGINT)"
                     : signum == SIGHUP  ? "Hung up (SIGHUP)"
                                         : "Terminated (SIGTERM)";
  if (phase_ == Phase::Starting) {
    if (stop_before_start_.empty()) stop_before_start_ = what;
  } else {
    begin_stop(what);
  }
}

void Coordinator::close_handles() {
  if (!handles_open_) return;
  handles_open_ = false;
  keys_.close();
  for (uv_timer_t* timer : {&spawn_timer_, &shape_timer_, &stats_timer_, &run_timer_, &stop_deadline_timer_})
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  events_.close();
  // The coordinator's own coroutines and connections go too, or the loop would not end.
  if (scheduler_) scheduler_->shutdown();
  context_.scheduler = nullptr;
  script_->close();
  http_->shutdown();
}

}  // namespace cicada::runner
