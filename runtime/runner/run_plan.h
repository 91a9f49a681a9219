#pragma once
// Everything a run checks before its first user starts, read once from the options and the
// script loaded on the coordinator: the classes that run, the threads, the load model and its
// numbers, the report files (writable) and the thresholds (well formed). A bad combination ends
// here with a message, before any worker starts.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/config/option_layers.h"
#include "runtime/report/run_reports.h"
#include "runtime/report/thresholds.h"
#include "runtime/script/script_host.h"
#include "runtime/vu/arrival_schedule.h"

namespace cicada::runner {

struct RunPlan {
  config::RunOptions options;  // every layer, the script's cicada.options{} included
  std::vector<script::UserClassInfo> classes;  // the selected classes, in script order
  std::vector<int> class_index_in_script;      // selected class -> index in the script's list
  std::vector<int> weights;                    // per selected class
  std::vector<int> fixed_counts;               // per selected class
  std::string default_host;                    // for setup/teardown/event contexts
  int threads = 1;

  script::LoadShapeInfo load_shape;  // cicada.shape / cicada.stages
  bool open_model = false;
  vu::ArrivalSchedule arrival_schedule;  // the open model
  int pool_users = 0;                    // the open model: users started before the first iteration
  int max_pool_users = 0;                // ... and the most the pool may grow to

  std::vector<std::int64_t> iteration_budgets;  // per thread, -1 = unlimited (closed model)
  int workers_with_budget = 0;                  // threads that take part in --iterations

  std::unique_ptr<report::RunReports> reports;
  std::unique_ptr<report::ThresholdEvaluator> thresholds;

  int script_class(int selected) const { return class_index_in_script[static_cast<std::size_t>(selected)]; }
  // The selected class of a script class index, or -1 when that class does not run.
  int selected_class(int script_class) const;
  // The selected class of that name, or -1.
  int class_named(std::string_view name) const;
  // Counts per selected class laid out per script class (0 for those that do not run), as the
  // stdlib's task ratios take them.
  std::vector<int> per_script_class(const std::vector<int>& per_selected) const;
  // Counts by class name laid out per selected class, -1 for a class not named (or not running).
  std::vector<int> per_selected_class(const std::map<std::string, int>& by_name) const;
};

// Loads the script into `script` and fills `plan`. Returns -1 to go on with the run, or the
// exit code to end with now: 0 after --list or --show-task-ratio (printed here), 2 with the
// error printed for a bad script, option or combination.
int make_run_plan(const config::ResolvedCommand& command, script::ScriptHost& script, RunPlan* plan);

}  // namespace cicada::runner
