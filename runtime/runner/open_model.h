#pragma once
// The open model: iterations start on the arrival schedule (--arrival-rate, or rate stages),
// whatever the response times, on a pool of users that may grow from each thread's reserve.
// The pool starts first; once every thread reports it ready, the schedule starts, the same
// moment for all threads.
#include <uv.h>

#include <map>
#include <vector>

#include "runtime/runner/load_model.h"
#include "runtime/runner/run_plan.h"
#include "runtime/runner/user_distribution.h"

namespace cicada::runner {

class OpenModel final : public LoadModel {
 public:
  OpenModel(const RunPlan& plan, uv_loop_t* loop, LoadModelHost& host);

  void begin(const control::LoadRequest& load) override;
  control::CommandResult set_users(int, double) override {
    return control::CommandResult::refused("the open model starts iterations at a rate: its users are a pool");
  }
  void stop() override;
  void close() override;
  void on_pool_ready(const loop::PoolReady& event) override;
  void on_stats_report(const loop::StatsReport& event) override;

  int running_users() const override;
  int target_users() const override { return plan_.pool_users; }
  double spawn_rate() const override { return 0; }
  bool shape_driven() const override { return plan_.load_shape.kind == script::LoadShapeInfo::Kind::Rate; }
  void describe(report::RunInfo* info) const override;

 private:
  void start_arrivals();

  const RunPlan& plan_;
  uv_loop_t* loop_;
  LoadModelHost& host_;
  UserDistribution distribution_;
  bool active_ = false;
  int workers_pool_ready_ = 0;
  bool arrivals_started_ = false;
  double arrivals_start_s_ = 0;  // the schedule's time 0, on now_s()'s clock
  double arrivals_end_s_ = 0;    // when the test began to stop
  std::vector<std::size_t> worker_users_;  // users per thread, as last reported
  uv_timer_t end_timer_{};  // the schedule's end (its last stage, or the run time)
};

}  // namespace cicada::runner
