#include "runtime/runner/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <map>

#include "bindings/modules.h"
#include "runtime/common/clock.h"
#include "runtime/common/log.h"
#include "runtime/http/body_budget.h"
#include "runtime/http/url.h"
#include "runtime/report/console_report.h"
#include "runtime/runner/closed_model.h"
#include "runtime/runner/open_model.h"
#include "runtime/runner/timers.h"
#include "runtime/script/source_names.h"

namespace cicada::runner {

using common::log_error;
using common::log_info;
using common::log_warning;
using common::unix_now_s;
using control::CommandResult;
using control::RunPhase;

namespace {

constexpr double kStopDeadlineMarginS = 5;
// A worker answers the stats round every second; this long without a word, it is stuck.
constexpr double kSilentWorkerS = 5;
constexpr int kPrintEverySeconds = 2;
constexpr int kExitThresholdFailed = 3;

}  // namespace

Coordinator::Coordinator(config::ResolvedCommand command) : command_(std::move(command)) { uv_loop_init(&loop_); }

Coordinator::~Coordinator() {
  shut_down_workers();
  // A master's workers that never started (the run ended before run()): their handles close
  // before the loop's last turn.
  remote_link_.reset();
  if (model_) model_->close();
  if (scheduler_) scheduler_->shutdown();
  context_.scheduler = nullptr;
  scheduler_.reset();
  script_.reset();
  if (http_) http_->shutdown();
  // Let libuv run the close callbacks of whatever is left, then release the loop.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

double Coordinator::now_s() const { return common::monotonic_s(); }

int Coordinator::prepare() {
  http_ = std::make_unique<http::HttpRuntime>(&loop_);
  context_.loop = &loop_;
  context_.is_coordinator = true;
  context_.stats = &coordinator_book_;
  context_.http = http_.get();
  context_.request_stop = [this](const std::string& reason) { begin_stop(reason); };
  script_ = std::make_unique<script::ScriptHost>(&context_, bindings::kNativeModules);
  const int early_exit = make_run_plan(command_, *script_, &plan_);
  if (early_exit >= 0) return early_exit;
  context_.host_override = plan_.options.host;
  http_->defaults().tls.verify = !plan_.options.insecure;
  if (plan_.open_model) {
    model_ = std::make_unique<OpenModel>(plan_, &loop_, static_cast<LoadModelHost&>(*this));
  } else {
    model_ = std::make_unique<ClosedModel>(plan_, *script_, &loop_, static_cast<LoadModelHost&>(*this));
  }
  scheduler_ = std::make_unique<vu::Scheduler>(&loop_, script_->state(), &coordinator_book_,
                                               static_cast<vu::SchedulerListener*>(this),
                                               script_->scheduler_hooks());
  context_.scheduler = scheduler_.get();
  run_action_ref_ = script_->module_function("run_coordinator_action");
  script_->fire_init(true, -1);
  prepared_ = true;
  return -1;
}

int Coordinator::run() {
  events_.open(&loop_, [this](std::vector<loop::WorkerEvent>& events) { on_events(events); });
  for (uv_timer_t* timer : {&stats_timer_, &run_timer_, &stop_deadline_timer_}) {
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
  if (script_->module_predicate("has_setup")) {
    run_action("setup", nullptr, [this](const std::string& error) { on_setup_done(error); });
  } else {
    setup_done_ = true;
  }
  uv_run(&loop_, UV_RUN_DEFAULT);
  return exit_code_;
}

// The classes of `chosen` (all selected ones when empty) that keep a task under `tags`, in
// `chosen`; refused when none does. The coordinator's Lua state keeps the new tags (the task
// ratios follow them); a refusal puts the options' tags back.
CommandResult Coordinator::classes_with_tasks_for(const std::vector<std::string>& tags, std::vector<std::string>& chosen) {
  std::string error;
  std::vector<script::UserClassInfo> infos;
  if (!script_->configure(tags, plan_.options.exclude_tags, &error) || !script_->user_classes(&infos, &error)) {
    script_->configure(plan_.options.tags, plan_.options.exclude_tags, &error);
    return CommandResult::refused("the tags cannot be applied: " + error);
  }
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < plan_.classes.size(); ++i) {
    const std::string& name = plan_.classes[i].name;
    if (!chosen.empty() && std::find(chosen.begin(), chosen.end(), name) == chosen.end()) continue;
    if (infos[static_cast<std::size_t>(plan_.script_class(static_cast<int>(i)))].task_count > 0) kept.push_back(name);
  }
  if (kept.empty()) {
    script_->configure(plan_.options.tags, plan_.options.exclude_tags, &error);
    return CommandResult::refused("no task of the chosen user classes has one of these tags");
  }
  chosen = std::move(kept);
  return {};
}

bool Coordinator::load_given() const {
  const config::RunOptions& o = plan_.options;
  return o.users_given || o.arrival_rate > 0 || plan_.load_shape.kind != script::LoadShapeInfo::Kind::None ||
         o.iterations >= 0 || o.iterations_per_user >= 0 || o.run_time_s > 0;
}

// --- the controller's commands ---------------------------------------------------------------

CommandResult Coordinator::start(const control::LoadRequest& load) {
  if (!phases_.is(RunPhase::Ready) || start_requested_) return CommandResult::refused("the test has already started");
  if (load.users && *load.users < 0) return CommandResult::refused("the user count cannot be negative");
  if (load.spawn_rate && !(*load.spawn_rate > 0)) return CommandResult::refused("the spawn rate must be above 0");
  if (load.run_time_s && !(*load.run_time_s >= 0)) return CommandResult::refused("the run time cannot be negative");
  if (const CommandResult checked = check_class_users(load.class_users); !checked.accepted) return checked;
  if (!load.class_users.empty() && (plan_.open_model || plan_.load_shape.kind != script::LoadShapeInfo::Kind::None))
    return CommandResult::refused("users by class need the closed model without a load shape");
  if (load.host) {
    std::string error;
    if (!http::parse_url(*load.host, &error)) return CommandResult::refused("bad host '" + *load.host + "': " + error);
  } else if (plan_.options.host.empty()) {
    for (const auto& c : plan_.classes)
      if (c.host.empty())
        return CommandResult::refused("no host for user class '" + c.name + "': pass -H/--host http://... (to the "
                                      "master or this worker) or set host= in cicada.user()");
  }
  for (const std::string& name : load.user_classes)
    if (plan_.class_named(name) < 0) return CommandResult::refused("no user class named '" + name + "' runs in this test");
  if ((!load.user_classes.empty() || load.tags) && plan_.open_model)
    return CommandResult::refused("the open model runs every selected class with the options' tags; choose them "
                                  "with the command line");
  control::LoadRequest accepted = load;
  if (load.tags) {
    const CommandResult narrowed = classes_with_tasks_for(*load.tags, accepted.user_classes);
    if (!narrowed.accepted) return narrowed;
    plan_.options.tags = *load.tags;
  }
  start_requested_ = true;
  load_ = std::move(accepted);
  // The reports describe the test that ran.
  if (load.users) plan_.options.users = *load.users;
  if (load.spawn_rate) plan_.options.spawn_rate = *load.spawn_rate;
  if (load.run_time_s) plan_.options.run_time_s = *load.run_time_s;
  if (load.host) plan_.options.host = *load.host;
  if (prepared_) maybe_begin_test();
  return {};
}

CommandResult Coordinator::set_users(int users, double spawn_rate) {
  if (!phases_.is_active()) return CommandResult::refused(std::string("the test is ") + control::phase_name(phases_.phase()));
  return model_->set_users(users, spawn_rate);
}

CommandResult Coordinator::check_class_users(const std::map<std::string, int>& users) const {
  for (const auto& [name, count] : users) {
    if (plan_.class_named(name) < 0) return CommandResult::refused("no user class named '" + name + "' runs in this test");
    if (count < 0) return CommandResult::refused("the user count of " + name + " cannot be negative");
  }
  return {};
}

CommandResult Coordinator::set_class_users(const std::map<std::string, int>& users) {
  if (const CommandResult checked = check_class_users(users); !checked.accepted) return checked;
  if (plan_.open_model) return CommandResult::refused("the open model runs its own schedule; users cannot be set by class");
  if (phases_.is(RunPhase::Ready) && start_requested_) {
    for (const auto& [name, count] : users) load_.class_users[name] = count;
    return {};
  }
  if (!phases_.is_active()) return CommandResult::refused(std::string("the test is ") + control::phase_name(phases_.phase()));
  return model_->set_class_users(plan_.per_selected_class(users));
}

CommandResult Coordinator::stop(const std::string& reason) {
  if (phases_.is(RunPhase::Ready) && !start_requested_) return CommandResult::refused("the test has not started");
  if (phases_.is(RunPhase::Stopping) || phases_.is(RunPhase::Stopped))
    return CommandResult::refused("the test is already " + std::string(control::phase_name(phases_.phase())));
  begin_stop(reason);
  return {};
}

CommandResult Coordinator::reset_stats() {
  if (!phases_.is_active()) return CommandResult::refused(std::string("the test is ") + control::phase_name(phases_.phase()));
  reset_stats_now();
  return {};
}

control::RunReportView Coordinator::report_view() const {
  control::RunReportView view;
  view.info = run_info();
  view.history = &plan_.reports->history();
  view.thresholds = plan_.thresholds->evaluate(stats_);
  view.recent = plan_.reports->recent().window(nullptr);
  return view;
}

std::vector<control::UserClassChoice> Coordinator::user_classes() const {
  std::vector<control::UserClassChoice> choices;
  for (const auto& c : plan_.classes) choices.push_back({c.name, c.weight, c.fixed_count, c.host});
  return choices;
}

std::string Coordinator::task_ratios_json() {
  // Once the run is over its Lua state is closed: the ratios of its end.
  if (!handles_open_ && !task_ratios_at_end_.empty()) return task_ratios_at_end_;
  std::vector<int> counts;
  if (model_ && phases_.phase() != RunPhase::Ready) counts = model_->class_user_counts();
  // Before the start, and in the open model: the mix by weight.
  if (counts.empty()) counts = plan_.weights;
  return script_->task_ratios_json(plan_.per_script_class(counts));
}

control::RunSnapshot Coordinator::snapshot() const {
  control::RunSnapshot snapshot;
  snapshot.phase = phases_.phase();
  snapshot.open_model = plan_.open_model;
  if (model_) {
    snapshot.shape_driven = model_->shape_driven();
    snapshot.target_users = model_->target_users();
    snapshot.spawn_rate = model_->spawn_rate();
  }
  snapshot.running_users = running_users();
  snapshot.stop_reason = stop_reason_;
  snapshot.stats = &stats_;
  snapshot.distributed = distributed_;
  for (const auto& worker : workers_)
    for (auto& remote : worker->remote_workers()) snapshot.remote_workers.push_back(std::move(remote));
  return snapshot;
}

// --- what the load model asks -----------------------------------------------------------------

void Coordinator::post(int thread, loop::WorkerCommand command) {
  workers_[static_cast<std::size_t>(thread)]->post(std::move(command));
}

void Coordinator::on_spawning() { phases_.advance(RunPhase::Spawning); }

void Coordinator::on_load_reached(int users) {
  phases_.advance(RunPhase::Running);
  const script::LuaValue count = script::LuaValue::number(users);
  fire_event("spawning_complete", &count, [] {});
  on_all_users_running();
}

void Coordinator::start_workers() {
  distributed_ = static_cast<bool>(remote_link_);
  if (remote_link_) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < plan_.classes.size(); ++i) {
      const auto script_index = static_cast<std::size_t>(plan_.script_class(static_cast<int>(i)));
      if (names.size() <= script_index) names.resize(script_index + 1);
      names[script_index] = plan_.classes[i].name;
    }
    remote_link_->attach(&events_, std::move(names));
    workers_.push_back(std::move(remote_link_));
  }
  for (int i = 0; !distributed_ && i < plan_.threads; ++i) {
    loop::WorkerConfig config;
    config.index = i;
    config.script_path = plan_.options.script;
    config.host_override = plan_.options.host;
    config.iteration_budget = plan_.iteration_budgets[static_cast<std::size_t>(i)];
    config.iterations_per_user = plan_.options.iterations_per_user;
    config.tags = plan_.options.tags;
    config.exclude_tags = plan_.options.exclude_tags;
    config.stop_timeout_s = plan_.options.stop_timeout_s;
    config.verify_tls = !plan_.options.insecure;
    workers_.push_back(std::make_unique<loop::Worker>(std::move(config), &events_));
  }
  http::BodyBudget::set_limit(static_cast<std::uint64_t>(plan_.options.max_body_memory_mib) << 20);
  worker_last_heard_s_.assign(workers_.size(), now_s());
  worker_done_.assign(workers_.size(), false);
  worker_reported_silent_.assign(workers_.size(), false);
  for (auto& worker : workers_) worker->start();
}

void Coordinator::run_action(const std::string& action, const script::LuaValue* argument,
                             std::function<void(const std::string& error)> done) {
  const script::ScriptHost::CoordinatorAction refs = script_->new_coordinator_action(plan_.default_host, action, argument);
  if (refs.context_ref == -2) {
    done("cannot create a context for " + action);
    return;
  }
  scheduler_->spawn_task(run_action_ref_, refs.context_ref, [this, refs, action, done = std::move(done)] {
    script::ScriptHost::ActionOutcome outcome = script_->take_action_outcome(refs, action == "setup");
    if (outcome.result) setup_data_ = std::move(outcome.result);
    done(outcome.error);
  });
}

void Coordinator::fire_event(const std::string& event, const script::LuaValue* argument, std::function<void()> done) {
  if (!script_->module_predicate("has_listeners", event.c_str())) {
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
  if (!phases_.is_active() && !phases_.is(RunPhase::Stopping)) return;
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
  if (phases_.is(RunPhase::Stopping) && !silent.empty() && all_others_done &&
      now - stop_began_s_ >= plan_.options.stop_timeout_s + kSilentWorkerS)
    abandon_silent_workers(silent);
}

std::string Coordinator::running_task_text(std::size_t worker) const {
  const common::RunningTask& running = workers_[worker]->running_task();
  const int class_index = running.class_index.load(std::memory_order_relaxed);
  const char* task = running.task.load(std::memory_order_relaxed);
  std::string text = "a task that never gives the event loop a turn (a loop without I/O?)";
  if (!task) return text;
  std::string class_name = "?";
  if (const int selected = plan_.selected_class(class_index); selected >= 0)
    class_name = plan_.classes[static_cast<std::size_t>(selected)].name;
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
  exit_now(exit_code_);
}

// Leaves at once, without unwinding (a thread may never return): what was printed goes out,
// and front-ends put back what they changed.
void Coordinator::exit_now(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  for (const auto& hook : exit_hooks_) hook();
  _exit(code);
}

void Coordinator::handle(loop::WorkerReady& event) {
  if (!event.error.empty()) {
    if (!startup_failed_) std::fprintf(stderr, "%s\n", event.error.c_str());
    startup_failed_ = true;
  } else {
    // Every thread must see the same classes as the coordinator did.
    for (const auto& c : plan_.classes) {
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
  if (!phases_.is(RunPhase::Ready) || test_starting_ || !start_requested_ || workers_ready_ < plan_.threads ||
      !setup_done_)
    return;
  if (startup_failed_) {
    abort_startup(2);
    return;
  }
  if (interrupts_ > 0 || !stop_before_start_.empty()) {
    if (!stop_before_start_.empty()) log_info("%s before the test started", stop_before_start_.c_str());
    phases_.advance(RunPhase::Stopping);
    on_users_stopped();
    return;
  }
  if (setup_data_)
    for (auto& worker : workers_) worker->post(loop::SetSetupData{setup_data_});
  if (load_.host) {
    context_.host_override = *load_.host;
    for (auto& worker : workers_) worker->post(loop::SetHost{*load_.host});
  }
  if (load_.tags)
    for (auto& worker : workers_) worker->post(loop::SetTags{*load_.tags, plan_.options.exclude_tags});
  // test_start listeners finish before the first user starts, as in Locust; a stop meanwhile
  // stops the test instead.
  test_starting_ = true;
  fire_event("test_start", nullptr, [this] {
    if (phases_.is(RunPhase::Ready)) begin_test();
  });
}

void Coordinator::abort_startup(int exit_code) {
  exit_code_ = exit_code;
  phases_.advance(RunPhase::Stopped);
  finished_ = true;
  shut_down_workers();
  close_handles();
}

void Coordinator::begin_test() {
  started_s_ = now_s();
  started_unix_s_ = unix_now_s();
  plan_.reports->begin();
  stats_.set_start_time(started_s_);
  stats_.note_time(started_s_);
  if (distributed_) {
    const std::size_t remote = workers_.empty() ? 0 : workers_.front()->remote_workers().size();
    log_info("Starting cicada %s with %zu worker%s", CICADA_VERSION, remote, remote == 1 ? "" : "s");
  } else {
    log_info("Starting cicada %s with %d worker thread%s", CICADA_VERSION, plan_.threads, plan_.threads == 1 ? "" : "s");
  }
  start_timer(&stats_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->stats_tick(); }, 1, 1);
  // The open model counts the run time from its first scheduled iteration, itself.
  if (!plan_.open_model && plan_.options.run_time_s > 0) {
    start_timer(
        &run_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(t)->begin_stop("Run time limit reached"); },
        plan_.options.run_time_s, 0);
  }
  model_->begin(load_);
  if (plan_.options.iterations >= 0 && plan_.workers_with_budget == 0 && !plan_.open_model)
    begin_stop("Iteration limit reached");
}

void Coordinator::on_all_users_running() {
  if (plan_.open_model && plan_.options.iterations >= 0 && plan_.workers_with_budget == 0)
    begin_stop("Iteration limit reached");
  if (spawning_complete_) return;
  spawning_complete_ = true;
  if (plan_.options.reset_stats) reset_stats_now();
}

void Coordinator::reset_stats_now() {
  log_info("Resetting stats");
  ++stats_generation_;
  for (auto& worker : workers_) worker->post(loop::ResetStats{});
  stats_.reset(now_s());
  plan_.reports->reset();
  stats_reset_done_ = true;
  fire_event("reset_stats", nullptr, [] {});
}

void Coordinator::handle(loop::PoolReady& event) { model_->on_pool_ready(event); }

// An error of the script's coordinator code (teardown, the load shape): logged, and counted
// like a task's (its first line is the message, the rest the traceback).
void Coordinator::report_coordinator_error(std::string error) {
  script::restore_long_source_names(&error, plan_.options.script);
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
  plan_.reports->on_second(stats_, unix_now_s(), running_users());
  for (const auto& observer : stats_observers_)
    if (observer.on_second) observer.on_second();
  check_thresholds();
  // Printed right after a second closes so the current rates include it (Locust: every 2 s).
  if (++stats_ticks_ % kPrintEverySeconds == 0) print_tick();
}

void Coordinator::print_tick() {
  // Locust's --only-summary; --print-stats asks for what a headless run does anyway.
  if (!phases_.is_active() || plan_.options.only_summary) return;
  std::string table = report::stats_table(stats_, true);
  if (plan_.open_model) table += report::current_iterations_line(stats_);
  std::FILE* out = table_stream();
  std::fwrite(table.data(), 1, table.size(), out);
  std::fputc('\n', out);
  std::fflush(out);
}

int Coordinator::running_users() const {
  if (!model_ || phases_.is(RunPhase::Stopped)) return 0;
  return model_->running_users();
}

void Coordinator::check_thresholds() {
  if (!phases_.is_active()) return;
  report::ThresholdEvaluator::Moment moment;
  moment.elapsed_s = now_s() - started_s_;
  moment.all_users_running = spawning_complete_;
  moment.stats_final = !plan_.options.reset_stats || stats_reset_done_;
  if (const report::Threshold* broken = plan_.thresholds->check_abort(stats_, moment))
    begin_stop("Threshold '" + broken->text() + "' failed (abort_on_fail)");
}

void Coordinator::merge_worker_delta(const stats::StatsBook& delta) {
  stats_.merge_delta(delta);
  plan_.reports->add_delta(delta);
  for (const auto& observer : stats_observers_)
    if (observer.on_delta) observer.on_delta(delta);
}

void Coordinator::handle(loop::StatsReport& event) {
  model_->on_stats_report(event);
  if (event.delta) {
    if (event.generation == stats_generation_) {
      merge_worker_delta(*event.delta);
    } else {
      // Asked for before a stats reset: the ramp-up's requests go, its exceptions stay.
      stats_.merge_exceptions(*event.delta);
    }
  }
  if (stats_round_open_ && event.round == stats_round_ && --stats_replies_pending_ == 0) close_stats_second();
}

void Coordinator::handle(loop::IterationsExhausted&) {
  if (++workers_exhausted_ >= plan_.workers_with_budget) begin_stop("Iteration limit reached");
}

void Coordinator::handle(loop::UserEnded& event) { model_->on_user_ended(event); }

void Coordinator::handle(loop::StopTestRequested& event) { begin_stop(event.reason); }

void Coordinator::handle(loop::WorkerStopped& event) {
  if (event.delta) merge_worker_delta(*event.delta);
  if (static_cast<std::size_t>(event.worker) < worker_done_.size()) worker_done_[static_cast<std::size_t>(event.worker)] = true;
  if (++workers_stopped_ >= plan_.threads) on_users_stopped();
}

void Coordinator::begin_stop(const std::string& reason) {
  if (phases_.is(RunPhase::Ready) && !test_starting_) {
    if (stop_before_start_.empty()) stop_before_start_ = reason;
    // A run waiting for a front-end's start (the web UI) may never get one: it ends as soon as
    // the workers are up, as a run stopped while starting does.
    if (!start_requested_) {
      start_requested_ = true;
      if (prepared_) maybe_begin_test();
    }
    return;
  }
  if (!phases_.advance(RunPhase::Stopping) || !stop_reason_.empty()) return;
  stop_began_s_ = now_s();
  stop_reason_ = reason;
  log_info("%s, stopping users", reason.c_str());
  uv_timer_stop(&run_timer_);
  model_->stop();
  fire_event("test_stopping", nullptr, [] {});
  for (auto& worker : workers_) worker->post(loop::StopAllUsers{plan_.options.on_stop_grace_s});
  // Workers that still answer but do not finish (on_stop making requests to a server that
  // hangs) get the on_stop grace; past it, the report is written with what they sent.
  double deadline = plan_.options.stop_timeout_s + plan_.options.on_stop_grace_s + kStopDeadlineMarginS;
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
  if (started_unix_s_ > 0) plan_.reports->on_second(stats_, unix_now_s(), running_users());
}

// Users are gone: test_stop listeners, then teardown, then the report, then quitting.
void Coordinator::on_users_stopped() {
  if (phases_.is(RunPhase::Stopped)) return;
  phases_.advance(RunPhase::Stopped);
  uv_timer_stop(&stop_deadline_timer_);
  close_last_second();
  if (stop_reason_.empty()) stop_reason_ = stop_before_start_.empty() ? "Interrupted before the test started"
                                                                      : stop_before_start_ + " before the test started";
  fire_event("test_stop", nullptr, [this] {
    auto after_teardown = [this](const std::string& error) {
      if (!error.empty()) report_coordinator_error("cicada.teardown() failed: " + error);
      finish_report();
      fire_event("quitting", nullptr, [this] {
        finished_ = true;
        shut_down_workers();
        close_handles();
      });
    };
    if (script_->module_predicate("has_teardown")) {
      run_action("teardown", nullptr, after_teardown);
    } else {
      after_teardown("");
    }
  });
}

void Coordinator::finish_report() {
  merge_coordinator_exceptions();
  const stats::StatsBook& book = stats_.book();
  const std::vector<report::ThresholdResult> thresholds = plan_.thresholds->evaluate(stats_);
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
  exit_code_ = thresholds_failed ? kExitThresholdFailed : failed ? plan_.options.exit_code_on_error : 0;

  const report::RunInfo info = run_info();
  std::string out = report::stats_table(stats_, false);
  out += "\n";
  out += report::percentile_table(stats_);
  out += "\n";
  if (plan_.open_model) {
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

  const std::string json = plan_.reports->finish(info, stats_, thresholds);
  if (plan_.options.json) {
    std::fwrite(json.data(), 1, json.size(), stdout);
    std::fflush(stdout);
  }
  log_info("Shutting down (exit code %d)", exit_code_);
}

report::RunInfo Coordinator::run_info() const {
  report::RunInfo info;
  info.script = plan_.options.script;
  info.host = plan_.options.host.empty() ? plan_.default_host : plan_.options.host;
  // `cicada run x.lua ...` reaches us as {"run", "x.lua", ...}; `cicada -f x.lua` with the program.
  info.command_line.push_back("cicada");
  const auto& argv = command_.argv;
  if (!argv.empty())
    info.command_line.insert(info.command_line.end(), argv.begin() + (argv.front() == "run" ? 0 : 1), argv.end());
  for (const auto& c : plan_.classes) info.user_classes.push_back(c.name);
  info.users = plan_.options.users;
  info.spawn_rate = plan_.options.spawn_rate;
  info.run_time_s = plan_.options.run_time_s;
  info.iterations = plan_.options.iterations;
  info.threads = plan_.threads;
  info.start_unix_s = started_unix_s_;
  info.end_unix_s = unix_now_s();
  info.duration_s = stats_.duration_s();
  info.stop_reason = stop_reason_;
  info.exit_code = exit_code_;
  info.load_shape = plan_.load_shape.where;
  info.iterations_per_user = plan_.options.iterations_per_user;
  info.open_model = plan_.open_model;
  if (model_) model_->describe(&info);
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
    exit_now(130);
  }
  const char* what = signum == SIGINT    ? "Interrupted (SIGINT)"
                     : signum == SIGHUP  ? "Hung up (SIGHUP)"
                                         : "Terminated (SIGTERM)";
  begin_stop(what);
}

void Coordinator::close_handles() {
  if (!handles_open_) return;
  handles_open_ = false;
  for (uv_timer_t* timer : {&stats_timer_, &run_timer_, &stop_deadline_timer_})
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  if (model_) model_->close();
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sighup_), nullptr);
  task_ratios_at_end_ = task_ratios_json();
  events_.close();
  // The coordinator's own coroutines and connections go too, or the loop would not end.
  if (scheduler_) scheduler_->shutdown();
  context_.scheduler = nullptr;
  script_->close();
  http_->shutdown();
}

}  // namespace cicada::runner
