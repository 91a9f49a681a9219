#include "runtime/loop/worker.h"

#include <uv.h>

#include "bindings/modules.h"
#include "runtime/common/thread_context.h"
#include "runtime/http/http_runtime.h"
#include "runtime/script/script_host.h"
#include "runtime/stats/stats_book.h"
#include "runtime/vu/arrivals.h"
#include "runtime/vu/scheduler.h"

namespace cicada::loop {

// Everything that lives on the worker's own thread, created and destroyed there.
class Worker::Thread final : public vu::SchedulerListener, public vu::ArrivalDispatcher::Listener {
 public:
  Thread(const WorkerConfig& config, Mailbox<WorkerEvent>* coordinator, Mailbox<WorkerCommand>* inbox,
         common::RunningTask* running_task)
      : config_(config), coordinator_(coordinator), inbox_(inbox) {
    context_.running_task = running_task;
  }

  void run() {
    uv_loop_init(&loop_);
    http_ = std::make_unique<http::HttpRuntime>(&loop_);
    http_->defaults().tls.verify = config_.verify_tls;
    context_.loop = &loop_;
    context_.thread_index = config_.index;
    context_.host_override = config_.host_override;
    context_.stats = &stats_;
    context_.http = http_.get();
    context_.request_stop = [this](const std::string& reason) {
      coordinator_->post(StopTestRequested{config_.index, reason});
    };
    inbox_->open(&loop_, [this](std::vector<WorkerCommand>& commands) {
      for (auto& command : commands) std::visit([this](auto& c) { handle(c); }, command);
    });

    script_ = std::make_unique<script::ScriptHost>(&context_, bindings::kNativeModules);
    WorkerReady ready;
    ready.worker = config_.index;
    std::vector<script::UserClassInfo> classes;
    if (script_->load(config_.script_path, &ready.error) &&
        script_->configure(config_.tags, config_.exclude_tags, &ready.error) &&
        script_->user_classes(&classes, &ready.error)) {
      for (auto& c : classes) ready.class_names.push_back(c.name);
      scheduler_ = std::make_unique<vu::Scheduler>(&loop_, script_->state(), &stats_, this, script_->scheduler_hooks());
      scheduler_->set_iteration_budget(config_.iteration_budget);
      scheduler_->set_iterations_per_user(config_.iterations_per_user);
      scheduler_->set_stop_timeout(config_.stop_timeout_s);
      context_.scheduler = scheduler_.get();
      script_->fire_init(false, config_.index);
    }
    coordinator_->post(std::move(ready));

    uv_run(&loop_, UV_RUN_DEFAULT);
    uv_loop_close(&loop_);
  }

  // --- vu::SchedulerListener ---
  void on_user_ended(int class_index) override { coordinator_->post(UserEnded{config_.index, class_index}); }
  void on_iterations_exhausted() override { coordinator_->post(IterationsExhausted{config_.index}); }
  void on_all_stopped() override { coordinator_->post(WorkerStopped{config_.index, take_stats()}); }

  // --- vu::ArrivalDispatcher::Listener ---
  void on_pool_ready() override { coordinator_->post(PoolReady{config_.index}); }
  void on_arrivals_exhausted() override { coordinator_->post(IterationsExhausted{config_.index}); }

 private:
  void handle(SpawnUsers& command) {
    if (!scheduler_) return;
    if (arrivals_) {
      arrivals_->spawn_pool(command.batches);
      return;
    }
    for (auto [class_index, count] : command.batches) scheduler_->spawn(class_index, count);
  }
  void handle(SetupArrivals& command) {
    if (!scheduler_ || arrivals_) return;
    vu::ArrivalDispatcher::Plan plan;
    plan.arrivals = vu::ThreadArrivals(std::move(command.schedule), config_.index, command.threads,
                                           command.iteration_limit);
    plan.has_iteration_limit = command.iteration_limit >= 0;
    plan.max_queue_time_s = command.max_queue_time_s;
    plan.reserve_classes = std::move(command.reserve_classes);
    arrivals_ = std::make_unique<vu::ArrivalDispatcher>(&loop_, scheduler_.get(), &stats_, this, std::move(plan));
    scheduler_->set_arrivals(arrivals_.get());
  }
  void handle(StartArrivals& command) {
    if (arrivals_) arrivals_->start(command.start_ns);
  }
  void handle(StopUsers& command) {
    if (scheduler_) scheduler_->stop_users(command.class_index, command.count);
  }
  void handle(StopAllUsers& command) {
    if (arrivals_) arrivals_->stop();
    if (scheduler_) {
      scheduler_->stop_all(command.grace_s);
    } else {
      on_all_stopped();
    }
  }
  void handle(SetSetupData& command) {
    std::string error;
    if (scheduler_ && command.value && !script_->set_setup_data(*command.value, &error))
      stats_.record_exception(error, "");
  }
  void handle(SetHost& command) { context_.host_override = command.host; }
  void handle(SetTags& command) {
    std::string error;
    if (scheduler_ && !script_->configure(command.tags, command.exclude_tags, &error)) stats_.record_exception(error, "");
  }
  void handle(CollectStats& command) {
    coordinator_->post(StatsReport{config_.index, command.generation, command.round, take_stats(),
                                   scheduler_ ? scheduler_->user_count() : 0});
  }
  void handle(ResetStats&) {
    auto before = take_stats();
    stats_.merge_exceptions(*before);
  }
  void handle(Shutdown&) {
    // Users first (they reference Lua objects), then Lua (whose objects own connections),
    // then the mailbox; the loop ends once libuv has closed every handle.
    if (arrivals_) arrivals_->stop();
    if (scheduler_) scheduler_->shutdown();
    if (scheduler_) scheduler_->set_arrivals(nullptr);
    arrivals_.reset();  // closes its clock
    context_.scheduler = nullptr;
    scheduler_.reset();
    script_->close();
    http_->shutdown();
    inbox_->close();
  }

  std::unique_ptr<stats::StatsBook> take_stats() {
    auto delta = std::make_unique<stats::StatsBook>();
    std::swap(*delta, stats_);
    return delta;
  }

  WorkerConfig config_;
  Mailbox<WorkerEvent>* coordinator_;
  Mailbox<WorkerCommand>* inbox_;
  uv_loop_t loop_{};
  stats::StatsBook stats_;
  std::unique_ptr<http::HttpRuntime> http_;
  common::ThreadContext context_;
  std::unique_ptr<script::ScriptHost> script_;
  std::unique_ptr<vu::Scheduler> scheduler_;
  std::unique_ptr<vu::ArrivalDispatcher> arrivals_;  // the open model only
};

Worker::Worker(WorkerConfig config, Mailbox<WorkerEvent>* coordinator)
    : config_(std::move(config)), coordinator_(coordinator) {}

Worker::~Worker() { join(); }

void Worker::start() {
  thread_ = std::thread([this] {
    Thread thread(config_, coordinator_, &inbox_, &running_task_);
    thread.run();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace cicada::loop
