#include "runtime/runner/run_plan.h"

#include <sys/resource.h>
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "runtime/common/log.h"
#include "runtime/common/parse.h"
#include "runtime/config/option_table.h"
#include "runtime/http/url.h"
#include "runtime/report/html_report.h"
#include "runtime/runner/user_distribution.h"

namespace cicada::runner {

using common::log_warning;

namespace {

bool select_classes(const std::vector<script::UserClassInfo>& all, RunPlan* plan, std::string* error) {
  const config::RunOptions& options = plan->options;
  auto& classes = plan->classes;
  auto& index_in_script = plan->class_index_in_script;
  // Named classes run even with weight 0 (Locust's way to keep a class for explicit runs);
  // otherwise every class with weight > 0 or a fixed count runs.
  auto add = [&](std::size_t index) {
    if (std::find(index_in_script.begin(), index_in_script.end(), static_cast<int>(index)) != index_in_script.end())
      return;
    classes.push_back(all[index]);
    index_in_script.push_back(static_cast<int>(index));
  };
  if (options.user_classes.empty()) {
    for (std::size_t i = 0; i < all.size(); ++i)
      if (all[i].weight > 0 || all[i].fixed_count > 0) add(i);
    if (classes.empty()) {
      *error = "every user class has weight 0: name the ones to run on the command line";
      return false;
    }
  } else {
    for (const std::string& name : options.user_classes) {
      auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
      if (it == all.end()) {
        std::string known;
        for (const auto& c : all) known += (known.empty() ? "" : ", ") + c.name;
        *error = "unknown user class '" + name + "' (the script defines: " + known + ")";
        return false;
      }
      add(static_cast<std::size_t>(it - all.begin()));
      if (classes.back().weight == 0) classes.back().weight = 1;
    }
  }

  // Tag filters may leave a class without tasks: it is left out, as Locust does.
  std::vector<script::UserClassInfo> kept;
  std::vector<int> kept_index;
  for (std::size_t i = 0; i < classes.size(); ++i) {
    const auto& c = classes[i];
    if (c.declared_tasks == 0) {
      *error = "user class '" + c.name + "' has no tasks: add one with " + c.name + ":task(weight, function(self) ... end)";
      return false;
    }
    if (c.task_count == 0) {
      log_warning("User class %s has no task left after the tag filters; it will not run", c.name.c_str());
      continue;
    }
    kept.push_back(c);
    kept_index.push_back(index_in_script[i]);
  }
  if (kept.empty()) {
    *error = "no task matches the tag filters (-T/--tags, -E/--exclude-tags)";
    return false;
  }
  classes = std::move(kept);
  index_in_script = std::move(kept_index);

  for (const auto& c : classes) {
    const std::string& host = options.host.empty() ? c.host : options.host;
    // A worker gets the host with its master's spawn order (checked at the start).
    if (host.empty() && options.worker) continue;
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
    if (plan->default_host.empty()) plan->default_host = host;
  }
  for (const auto& c : classes) {
    plan->weights.push_back(c.weight);
    plan->fixed_counts.push_back(c.fixed_count);
  }
  return true;
}

bool plan_load_model(script::ScriptHost& script, RunPlan* plan, std::string* error) {
  const config::RunOptions& options = plan->options;
  if (!script.load_shape(&plan->load_shape, error)) return false;
  using Kind = script::LoadShapeInfo::Kind;
  plan->open_model = options.arrival_rate > 0 || plan->load_shape.kind == Kind::Rate;
  if (!plan->open_model) return true;
  if (plan->load_shape.kind == Kind::Users) {
    *error = plan->load_shape.where +
             ": this load shape sets a user count (the closed model), but --arrival-rate asks "
             "for the open model; give cicada.stages entries a rate = ... instead (see docs/load-models.md)";
    return false;
  }
  if (options.iterations_per_user >= 0) {
    *error = "--iterations-per-user belongs to the closed model: in the open model (--arrival-rate) users serve "
             "iterations as they come; use --iterations or --run-time to end the test";
    return false;
  }
  std::vector<vu::RateSegment> segments;
  if (plan->load_shape.kind == Kind::Rate) {
    // Each stage ramps linearly from the rate before it; the first from --arrival-rate (k6's startRate).
    double rate = options.arrival_rate;
    for (auto [duration_s, stage_rate] : plan->load_shape.rate_stages) {
      segments.push_back({duration_s, rate, stage_rate});
      rate = stage_rate;
    }
  } else {
    segments.push_back({std::numeric_limits<double>::infinity(), options.arrival_rate, options.arrival_rate});
  }
  const double end_s = options.run_time_s > 0 ? options.run_time_s : std::numeric_limits<double>::infinity();
  plan->arrival_schedule = vu::ArrivalSchedule(std::move(segments), end_s);
  // Without -u, enough users for iterations of up to 100 ms at the highest rate (Little's law).
  constexpr double kDefaultPoolSeconds = 0.1;
  plan->pool_users =
      options.users_given
          ? options.users
          : static_cast<int>(std::clamp(std::ceil(plan->arrival_schedule.peak_rate() * kDefaultPoolSeconds), 1.0,
                                        10'000.0));
  plan->max_pool_users = options.max_users > 0 ? options.max_users : plan->pool_users;
  if (plan->max_pool_users < plan->pool_users) {
    *error = "--max-users " + std::to_string(plan->max_pool_users) + " is below the " +
             std::to_string(plan->pool_users) + " users (-u) the pool starts with";
    return false;
  }
  if (plan->max_pool_users == 0) {
    *error = "the open model needs users to run iterations: give -u or --max-users above 0";
    return false;
  }
  // Each thread serves its share of the arrivals with its own users: a thread without any
  // would drop every iteration of its share.
  plan->threads = std::min(plan->threads, plan->max_pool_users);
  return true;
}

// Every user keeps a connection open: say so before the test if they cannot all have one,
// rather than failing connects half-way through the ramp.
bool check_open_file_limit(int users, int threads, std::string* error) {
  constexpr int kFilesBesidesUsers = 64 + 8;  // loops, wake-ups, logs and reports, per thread a few
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return true;
  long needed = static_cast<long>(users) + kFilesBesidesUsers + 4L * threads;
  if (needed <= static_cast<long>(limit.rlim_cur)) return true;
  *error = std::to_string(users) + " users need about " + std::to_string(needed) +
           " open files (one connection each), but this process may open " + std::to_string(limit.rlim_cur) +
           " (ulimit -n; cicada already raised it to the hard limit, ulimit -Hn). Raise the hard limit (as root: "
           "ulimit -Hn, or /etc/security/limits.conf) or run fewer users per process.";
  return false;
}

bool plan_thresholds(script::ScriptHost& script, RunPlan* plan, std::string* error) {
  std::vector<script::ScriptThreshold> declared;
  if (!script.script_thresholds(&declared, error)) return false;
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
  report::add_threshold_layer(thresholds, plan->options.thresholds);
  plan->thresholds = std::make_unique<report::ThresholdEvaluator>(std::move(thresholds));
  return true;
}

bool plan_reports(script::ScriptHost& script, RunPlan* plan, std::string* error) {
  if (!plan_thresholds(script, plan, error)) return false;
  const config::RunOptions& options = plan->options;
  report::ReportOutputs outputs;
  outputs.csv_prefix = options.csv_prefix;
  outputs.csv_full_history = options.csv_full_history;
  if (!options.html_file.empty())
    outputs.html_file = report::expand_html_placeholders(
        options.html_file, plan->open_model ? plan->pool_users : options.users, options.spawn_rate, options.run_time_s);
  outputs.json_file = options.json_file;
  outputs.junit_file = options.junit_file;
  outputs.open_model = plan->open_model;
  plan->reports = std::make_unique<report::RunReports>(std::move(outputs));
  if (!plan->reports->prepare(error)) return false;
  if (options.csv_full_history && options.csv_prefix.empty())
    log_warning("--csv-full-history has no effect without --csv PREFIX");
  if (!options.junit_file.empty() && plan->thresholds->empty())
    log_warning("--junit: no thresholds are declared, so %s will hold no test case", options.junit_file.c_str());
  return true;
}

void plan_iteration_budgets(RunPlan* plan) {
  const config::RunOptions& options = plan->options;
  plan->iteration_budgets.assign(static_cast<std::size_t>(plan->threads), -1);
  if (plan->open_model) {
    // The arrival schedule counts --iterations itself: thread t starts iterations t, t+T, ...
    if (options.iterations >= 0)
      for (int t = 0; t < plan->threads; ++t)
        if (vu::ThreadArrivals::share_of(options.iterations, t, plan->threads) > 0) ++plan->workers_with_budget;
  } else if (options.iterations >= 0) {
    plan->iteration_budgets = UserDistribution::split_iterations(plan->weights, plan->threads, options.users,
                                                                 options.iterations, plan->fixed_counts);
    plan->workers_with_budget =
        static_cast<int>(std::count_if(plan->iteration_budgets.begin(), plan->iteration_budgets.end(),
                                       [](std::int64_t b) { return b > 0; }));
  }
}

}  // namespace

int RunPlan::selected_class(int script_class) const {
  const auto it = std::find(class_index_in_script.begin(), class_index_in_script.end(), script_class);
  return it == class_index_in_script.end() ? -1 : static_cast<int>(it - class_index_in_script.begin());
}

int RunPlan::class_named(std::string_view name) const {
  const auto it = std::find_if(classes.begin(), classes.end(), [name](const auto& c) { return c.name == name; });
  return it == classes.end() ? -1 : static_cast<int>(it - classes.begin());
}

std::vector<int> RunPlan::per_script_class(const std::vector<int>& per_selected) const {
  std::vector<int> counts;
  for (std::size_t c = 0; c < per_selected.size() && c < class_index_in_script.size(); ++c) {
    const auto index = static_cast<std::size_t>(class_index_in_script[c]);
    if (counts.size() <= index) counts.resize(index + 1, 0);
    counts[index] = per_selected[c];
  }
  return counts;
}

std::vector<int> RunPlan::per_selected_class(const std::map<std::string, int>& by_name) const {
  std::vector<int> counts(classes.size(), -1);
  for (const auto& [name, count] : by_name)
    if (const int selected = class_named(name); selected >= 0) counts[static_cast<std::size_t>(selected)] = count;
  return counts;
}

int make_run_plan(const config::ResolvedCommand& command, script::ScriptHost& script, RunPlan* plan) {
  plan->options = command.options;
  config::RunOptions& options = plan->options;
  std::string error;
  auto fail = [&](const std::string& message) {
    std::fprintf(stderr, "%s\n", message.c_str());
    return 2;
  };
  if (!script.load(options.script, &error)) return fail(error);

  // cicada.options{} is the lowest layer of options; the rest was resolved before.
  std::vector<std::pair<std::string, std::string>> script_options;
  if (!script.script_options(&script_options, &error)) return fail(error);
  std::vector<config::RawOption> script_layer;
  for (auto& [name, value] : script_options)
    script_layer.push_back({config::canonical_option_name(name), value, options.script + ": cicada.options{}"});
  if (!config::apply_script_layer(command, script_layer, &options, &error)) return fail(error);

  if (!script.configure(options.tags, options.exclude_tags, &error)) return fail(error);
  std::vector<script::UserClassInfo> all;
  if (!script.user_classes(&all, &error)) return fail(error);
  if (all.empty())
    return fail(options.script + ": no user classes: declare at least one with cicada.user(\"Name\", {...})");

  if (options.list_classes) {
    std::printf("Available Users:\n");
    for (const auto& c : all) std::printf("    %s\n", c.name.c_str());
    return 0;
  }
  if (!select_classes(all, plan, &error)) return fail(error);

  plan->threads = options.threads > 0 ? options.threads : std::max(1, static_cast<int>(uv_available_parallelism()));
  if (options.master) {
    // The master's users run on its workers, which the run sees as one (runtime/dist).
    plan->threads = 1;
    if (options.iterations >= 0 || options.iterations_per_user >= 0)
      return fail("--iterations and --iterations-per-user do not run distributed yet (docs/distributed.md)");
    if (options.worker) return fail("--master and --worker exclude each other");
  }
  if (!plan_load_model(script, plan, &error)) return fail(error);
  if (options.master && plan->open_model)
    return fail("the open model (--arrival-rate, rate stages) does not run distributed yet: each worker would need "
                "its share of the schedule (docs/distributed.md)");
  if (!check_open_file_limit(plan->open_model ? plan->max_pool_users : options.users, plan->threads, &error))
    return fail(error);

  if (options.show_task_ratio) {
    UserDistribution distribution(plan->weights, 1, plan->fixed_counts);
    for (int i = 0; i < std::max(options.users, 1) && distribution.add(); ++i) {
    }
    std::vector<int> counts;
    for (std::size_t c = 0; c < plan->classes.size(); ++c) counts.push_back(distribution.class_count(static_cast<int>(c)));
    std::fputs(script.task_ratio_report(plan->per_script_class(counts)).c_str(), stdout);
    return 0;
  }

  if (!plan_reports(script, plan, &error)) return fail(error);
  plan_iteration_budgets(plan);
  return -1;
}

}  // namespace cicada::runner
