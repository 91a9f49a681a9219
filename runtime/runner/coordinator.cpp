#include "runtime/runner/coordinator.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "runtime/common/log.h"
#include "runtime/http/url.h"
#include "runtime/report/console_report.h"

namespace cicada::runner {

using common::log_error;
using common::log_info;
using common::log_warning;

namespace {

constexpr double kStopDeadlineMarginS = 5;
constexpr int kPrintEverySeconds = 2;

template <class T>
T* owner_of(uv_handle_t* handle) {
  return static_cast<T*>(handle->data);
}

void start_timer(uv_timer_t* timer, void (*callback)(uv_timer_t*), double first_s, double repeat_s) {
  uv_timer_start(timer, callback, static_cast<std::uint64_t>(std::llround(first_s * 1000)),
                 static_cast<std::uint64_t>(std::llround(repeat_s * 1000)));
}

}  // namespace

Coordinator::Coordinator(cli::RunOptions options) : options_(std::move(options)) {
  uv_loop_init(&loop_);
}

Coordinator::~Coordinator() {
  shut_down_workers();
  script_.reset();
  if (http_) http_->shutdown();
  // Let libuv run the close callbacks of whatever is left, then release the loop.
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

double Coordinator::now_s() const { return static_cast<double>(uv_hrtime()) / 1e9; }

bool Coordinator::prepare(std::string* error) {
  http_ = std::make_unique<http::HttpRuntime>(&loop_);
  context_.loop = &loop_;
  context_.is_coordinator = true;
  context_.host_override = options_.host;
  context_.stats = &coordinator_book_;
  context_.http = http_.get();
  script_ = std::make_unique<script::ScriptHost>(&context_);
  if (!script_->load(options_.script, error)) return false;

  std::vector<script::UserClassInfo> all;
  if (!script_->user_classes(&all, error)) return false;
  if (all.empty()) {
    *error = options_.script + ": no user classes: declare at least one with cicada.user(\"Name\", {...})";
    return false;
  }

  // Named classes run even with weight 0 (Locust's way to keep a class for explicit runs);
  // otherwise every class with weight > 0 runs.
  if (options_.user_classes.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (all[i].weight == 0) continue;
      classes_.push_back(all[i]);
      class_index_in_script_.push_back(static_cast<int>(i));
    }
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
      if (std::find(class_index_in_script_.begin(), class_index_in_script_.end(), it - all.begin()) !=
          class_index_in_script_.end())
        continue;
      classes_.push_back(*it);
      if (classes_.back().weight == 0) classes_.back().weight = 1;
      class_index_in_script_.push_back(static_cast<int>(it - all.begin()));
    }
  }

  for (const auto& c : classes_) {
    if (c.task_count == 0) {
      *error = "user class '" + c.name + "' has no tasks: add one with " + c.name + ":task(weight, function(self) ... end)";
      return false;
    }
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
    if (url->is_tls()) {
      *error = "https:// hosts are not supported yet (TLS comes in a later release): " + host;
      return false;
    }
  }

  threads_ = options_.threads > 0 ? options_.threads : std::max(1, static_cast<int>(uv_available_parallelism()));
  std::vector<int> weights;
  for (const auto& c : classes_) weights.push_back(c.weight);
  distribution_ = std::make_unique<UserDistribution>(weights, threads_);
  iteration_budgets_.assign(static_cast<std::size_t>(threads_), -1);
  if (options_.iterations >= 0) {
    iteration_budgets_ = UserDistribution::split_iterations(weights, threads_, options_.users, options_.iterations);
    workers_with_budget_ = static_cast<int>(std::count_if(iteration_budgets_.begin(), iteration_budgets_.end(),
                                                          [](std::int64_t b) { return b > 0; }));
  }
  return true;
}

int Coordinator::run() {
  std::string error;
  if (!prepare(&error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }

  events_.open(&loop_, [this](std::vector<loop::WorkerEvent>& events) { on_events(events); });
  for (uv_timer_t* timer : {&spawn_timer_, &stats_timer_, &run_timer_, &stop_deadline_timer_}) {
    uv_timer_init(&loop_, timer);
    timer->data = this;
  }
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sigterm_);
  sigint_.data = sigterm_.data = this;
  auto signal_callback = [](uv_signal_t* handle, int signum) {
    owner_of<Coordinator>(reinterpret_cast<uv_handle_t*>(handle))->on_signal(signum);
  };
  uv_signal_start(&sigint_, signal_callback, SIGINT);
  uv_signal_start(&sigterm_, signal_callback, SIGTERM);
  handles_open_ = true;

  start_workers();
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
    workers_.push_back(std::make_unique<loop::Worker>(std::move(config), &events_));
  }
  for (auto& worker : workers_) worker->start();
}

void Coordinator::on_events(std::vector<loop::WorkerEvent>& events) {
  for (auto& event : events) std::visit([this](auto& e) { handle(e); }, event);
}

void Coordinator::handle(loop::WorkerReady& event) {
  if (!event.error.empty()) {
    if (!startup_failed_) std::fprintf(stderr, "%s\n", event.error.c_str());
    startup_failed_ = true;
  } else {
    // Every thread must see the same classes as the coordinator did.
    std::vector<std::string> expected;
    for (const auto& c : classes_) expected.push_back(c.name);
    for (const std::string& name : expected) {
      if (std::find(event.class_names.begin(), event.class_names.end(), name) == event.class_names.end()) {
        if (!startup_failed_)
          std::fprintf(stderr, "the script declared different user classes on worker thread %d (missing '%s')\n",
                       event.worker, name.c_str());
        startup_failed_ = true;
      }
    }
  }
  if (++workers_ready_ < threads_) return;
  if (startup_failed_) {
    exit_code_ = 2;
    phase_ = Phase::Finished;
    shut_down_workers();
    close_handles();
    return;
  }
  if (interrupts_ > 0) {
    phase_ = Phase::Finished;
    print_final_report();
    shut_down_workers();
    close_handles();
    return;
  }
  begin_test();
}

void Coordinator::begin_test() {
  phase_ = Phase::Running;
  started_s_ = now_s();
  stats_.set_start_time(started_s_);
  stats_.note_time(started_s_);
  log_info("Starting cicada %s with %d worker thread%s", CICADA_VERSION, threads_, threads_ == 1 ? "" : "s");
  log_info("Ramping to %d users at a rate of %.2f per second", options_.users, options_.spawn_rate);

  double tick_s = std::clamp(1.0 / options_.spawn_rate, 0.01, 1.0);
  start_timer(&spawn_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(reinterpret_cast<uv_handle_t*>(t))->spawn_tick(); },
              0, tick_s);
  start_timer(&stats_timer_, [](uv_timer_t* t) { owner_of<Coordinator>(reinterpret_cast<uv_handle_t*>(t))->stats_tick(); },
              1, 1);
  if (options_.run_time_s > 0) {
    start_timer(
        &run_timer_,
        [](uv_timer_t* t) {
          owner_of<Coordinator>(reinterpret_cast<uv_handle_t*>(t))->begin_stop("Run time limit reached");
        },
        options_.run_time_s, 0);
  }
  if (options_.iterations >= 0 && workers_with_budget_ == 0) begin_stop("Iteration limit reached");
}

void Coordinator::spawn_tick() {
  if (phase_ != Phase::Running) return;
  double elapsed = now_s() - started_s_;
  auto due = static_cast<int>(std::min<double>(options_.users, std::floor(options_.spawn_rate * elapsed + 1e-9) + 1));
  std::map<int, std::map<int, int>> per_thread;  // thread -> script class index -> count
  while (distribution_->total() < due) {
    auto placement = distribution_->add();
    ++per_thread[placement.thread][class_index_in_script_[static_cast<std::size_t>(placement.class_index)]];
  }
  for (auto& [thread, counts] : per_thread) {
    loop::SpawnUsers command;
    for (auto [class_index, count] : counts) command.batches.emplace_back(class_index, count);
    workers_[static_cast<std::size_t>(thread)]->post(std::move(command));
  }
  if (distribution_->total() >= options_.users) {
    uv_timer_stop(&spawn_timer_);
    log_info("All users spawned: %s (%d total users)", class_mix().c_str(), distribution_->total());
  }
}

std::string Coordinator::class_mix() const {
  std::string mix = "{";
  for (std::size_t i = 0; i < classes_.size(); ++i) {
    if (i) mix += ", ";
    mix += "\"" + classes_[i].name + "\": " + std::to_string(distribution_->class_count(static_cast<int>(i)));
  }
  return mix + "}";
}

void Coordinator::stats_tick() {
  stats_.note_time(now_s());
  stats_.close_second();
  // Printed right after a second closes so the current rates include it (Locust: every 2 s).
  if (++stats_ticks_ % kPrintEverySeconds == 0) print_tick();
  for (auto& worker : workers_) worker->post(loop::CollectStats{});
}

void Coordinator::print_tick() {
  if (phase_ != Phase::Running) return;
  std::string table = report::stats_table(stats_, true);
  std::fwrite(table.data(), 1, table.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void Coordinator::handle(loop::StatsReport& event) {
  if (event.delta) stats_.merge_delta(*event.delta);
}

void Coordinator::handle(loop::IterationsExhausted&) {
  if (++workers_exhausted_ >= workers_with_budget_) begin_stop("Iteration limit reached");
}

void Coordinator::handle(loop::UserEnded&) {
  ++users_ended_;
  if (phase_ == Phase::Running && distribution_->total() >= options_.users && users_ended_ >= distribution_->total())
    begin_stop("All users have stopped");
}

void Coordinator::handle(loop::WorkerStopped& event) {
  if (event.delta) stats_.merge_delta(*event.delta);
  if (++workers_stopped_ >= threads_) finish();
}

void Coordinator::begin_stop(const std::string& reason) {
  if (phase_ != Phase::Running) return;
  phase_ = Phase::Stopping;
  log_info("%s, stopping users", reason.c_str());
  uv_timer_stop(&spawn_timer_);
  uv_timer_stop(&run_timer_);
  for (auto& worker : workers_) worker->post(loop::StopAllUsers{options_.on_stop_grace_s});
  // A worker stuck in a Lua loop that never yields cannot answer: report what we have and leave.
  start_timer(
      &stop_deadline_timer_,
      [](uv_timer_t* t) {
        auto* self = owner_of<Coordinator>(reinterpret_cast<uv_handle_t*>(t));
        log_error("Worker threads did not stop within %.0f s (a task that never yields?); exiting",
                  self->options_.on_stop_grace_s + kStopDeadlineMarginS);
        self->print_final_report();
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(self->exit_code_ == 0 ? 1 : self->exit_code_);
      },
      options_.on_stop_grace_s + kStopDeadlineMarginS, 0);
}

void Coordinator::finish() {
  if (phase_ == Phase::Finished) return;
  phase_ = Phase::Finished;
  stats_.note_time(now_s());
  stats_.close_second();
  print_final_report();
  shut_down_workers();
  close_handles();
}

void Coordinator::print_final_report() {
  const stats::StatsBook& book = stats_.book();
  bool failed = book.total().num_failures > 0 || !book.exceptions().empty();
  exit_code_ = failed ? options_.exit_code_on_error : 0;

  std::string out = report::stats_table(stats_, false);
  out += "\n";
  out += report::percentile_table(stats_);
  out += "\n";
  std::string errors = report::error_report(stats_);
  if (!errors.empty()) out += errors;
  std::string exceptions = report::exception_report(stats_);
  if (!exceptions.empty()) out += exceptions;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  log_info("Shutting down (exit code %d)", exit_code_);
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
    _exit(130);
  }
  const char* what = signum == SIGINT ? "Interrupted (SIGINT)" : "Terminated (SIGTERM)";
  if (phase_ == Phase::Running) {
    begin_stop(what);
  } else if (phase_ == Phase::Starting) {
    log_info("%s before the test started", what);
  }
}

void Coordinator::close_handles() {
  if (!handles_open_) return;
  handles_open_ = false;
  for (uv_timer_t* timer : {&spawn_timer_, &stats_timer_, &run_timer_, &stop_deadline_timer_})
    uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  events_.close();
}

}  // namespace cicada::runner
