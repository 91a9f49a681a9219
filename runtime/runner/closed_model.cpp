#include "runtime/runner/closed_model.h"

#include <algorithm>

#include "runtime/common/log.h"
#include "runtime/runner/timers.h"

namespace cicada::runner {

using common::log_error;
using common::log_info;
using common::log_warning;

ClosedModel::ClosedModel(const RunPlan& plan, script::ScriptHost& script, uv_loop_t* loop, LoadModelHost& host)
    : plan_(plan),
      script_(script),
      host_(host),
      loop_(loop),
      distribution_(plan.weights, plan.threads, plan.fixed_counts),
      spawn_rate_(plan.options.spawn_rate) {
  for (uv_timer_t* timer : {&spawn_timer_, &shape_timer_}) {
    uv_timer_init(loop, timer);
    timer->data = this;
  }
}

void ClosedModel::begin(const control::LoadRequest& load) {
  active_ = true;
  began_s_ = host_.now_s();
  if (load.spawn_rate && *load.spawn_rate > 0) spawn_rate_ = *load.spawn_rate;
  if (shape_driven()) {
    if (plan_.options.users_given)
      log_warning("-u/--users does not apply: the load shape of %s sets the user count", plan_.load_shape.where.c_str());
    // Locust calls a shape's tick() once a second, the first time at once.
    schedule_shape_tick();
    return;
  }
  if (!load.class_users.empty()) {
    set_class_users(plan_.per_selected_class(load.class_users));
    return;
  }
  // A front-end's choice of classes (the web form, checked by the coordinator): the others get
  // no users.
  std::string unknown;
  set_target(load.users.value_or(plan_.options.users), spawn_rate_, class_mask(load.user_classes, &unknown));
}

std::vector<bool> ClosedModel::class_mask(const std::vector<std::string>& names, std::string* unknown) const {
  std::vector<bool> mask;
  if (names.empty()) return mask;
  mask.assign(plan_.classes.size(), false);
  for (const std::string& name : names) {
    const int selected = plan_.class_named(name);
    if (selected < 0) {
      *unknown = name;
      return {};
    }
    mask[static_cast<std::size_t>(selected)] = true;
  }
  return mask;
}

std::vector<int> ClosedModel::class_user_counts() const {
  std::vector<int> counts;
  for (std::size_t c = 0; c < plan_.classes.size(); ++c) counts.push_back(distribution_.live_class_count(static_cast<int>(c)));
  return counts;
}

control::CommandResult ClosedModel::set_users(int users, double spawn_rate) {
  if (!active_) return control::CommandResult::refused("the test is not running");
  if (shape_driven())
    return control::CommandResult::refused("the load shape of " + plan_.load_shape.where + " sets the user count");
  if (users < 0) return control::CommandResult::refused("the user count cannot be negative");
  if (spawn_rate > 0) spawn_rate_ = spawn_rate;
  set_target(users, spawn_rate_, ramp_.classes());
  return {};
}

control::CommandResult ClosedModel::set_class_users(const std::vector<int>& per_selected_class) {
  if (!active_) return control::CommandResult::refused("the test is not running");
  if (shape_driven())
    return control::CommandResult::refused("the load shape of " + plan_.load_shape.where + " sets the user count");
  uv_timer_stop(&spawn_timer_);
  ramping_ = false;
  const int before = distribution_.live_total();
  RampStep changes;
  for (std::size_t c = 0; c < per_selected_class.size() && c < plan_.classes.size(); ++c) {
    const int wanted = per_selected_class[c];
    if (wanted < 0) continue;
    const int class_index = static_cast<int>(c);
    while (distribution_.live_class_count(class_index) < wanted)
      ++changes.spawn[distribution_.add_of_class(class_index).thread][class_index];
    while (distribution_.live_class_count(class_index) > wanted) {
      const auto removed = distribution_.remove_of_class(class_index);
      if (!removed) break;
      ++changes.stop[removed->thread][class_index];
    }
  }
  post_changes(changes);
  // The ramp is where the distribution is, so a later step changes nothing.
  ramp_.set_target(distribution_.live_total(), spawn_rate_, {}, host_.now_s());
  ramping_down_ = distribution_.live_total() < before;
  host_.on_spawning();
  log_info("%s: %s (%d total users)", ramping_down_ ? "Stopped users" : "Spawned users", class_mix().c_str(),
           distribution_.live_total());
  reached_once_ = true;
  host_.on_load_reached(distribution_.live_total());
  return {};
}

void ClosedModel::set_target(int users, double spawn_rate, const std::vector<bool>& classes) {
  if (!active_ || !ramp_.set_target(users, spawn_rate, classes, host_.now_s())) return;
  log_info("Ramping to %d users at a rate of %.2f per second", users, spawn_rate);
  ramping_down_ = users < distribution_.live_total();
  ramping_ = true;
  host_.on_spawning();
  start_timer(&spawn_timer_, [](uv_timer_t* t) { owner_of<ClosedModel>(t)->spawn_tick(); }, 0, ramp_.tick_s());
}

void ClosedModel::post_changes(const RampStep& step) {
  for (const auto& [thread, counts] : step.spawn) {
    loop::SpawnUsers command;
    for (auto [class_index, count] : counts) command.batches.emplace_back(plan_.script_class(class_index), count);
    host_.post(thread, std::move(command));
  }
  for (const auto& [thread, counts] : step.stop)
    for (auto [class_index, count] : counts) host_.post(thread, loop::StopUsers{plan_.script_class(class_index), count});
}

void ClosedModel::spawn_tick() {
  if (!active_ || !ramping_) return;
  RampStep step = ramp_.step(host_.now_s(), distribution_);
  post_changes(step);
  if (step.capped)
    log_warning("Only %d users can run: every selected class has a fixed_count and all are reached",
                distribution_.total());
  if (step.reached) on_ramp_reached();
}

void ClosedModel::on_ramp_reached() {
  uv_timer_stop(&spawn_timer_);
  ramping_ = false;
  // Locust's line after a ramp up; a ramp down says so.
  const int ended = distribution_.total() - distribution_.live_total();
  const std::string ended_note = ended > 0 ? ", " + std::to_string(ended) + " more ended on their own" : "";
  log_info("%s: %s (%d total users%s)", ramping_down_ ? "Ramped down" : "All users spawned", class_mix().c_str(),
           distribution_.live_total(), ended_note.c_str());
  reached_once_ = true;
  host_.on_load_reached(distribution_.live_total());
  stop_if_all_users_ended();
}

void ClosedModel::schedule_shape_tick() {
  start_timer_at(loop_, &shape_timer_, [](uv_timer_t* t) { owner_of<ClosedModel>(t)->shape_tick(); },
                 began_s_ + shape_ticks_++);
}

void ClosedModel::shape_tick() {
  if (!active_) return;
  schedule_shape_tick();
  script::ShapeTick tick;
  std::string error;
  if (!script_.shape_tick(host_.now_s() - began_s_, &tick, &error)) {
    host_.report_script_error(error);
    host_.begin_stop("The load shape failed");
    return;
  }
  if (tick.ended) {
    host_.begin_stop("The load shape ended");
    return;
  }
  std::string unknown;
  const std::vector<bool> active = class_mask(tick.classes, &unknown);
  if (!unknown.empty()) {
    host_.report_script_error("the load shape (" + plan_.load_shape.where + ") named the user class '" + unknown +
                              "', which is not running (" + class_mix() + ")");
    host_.begin_stop("The load shape failed");
    return;
  }
  set_target(tick.users, tick.spawn_rate, active);
}

void ClosedModel::on_user_ended(const loop::UserEnded& event) {
  ++users_ended_;
  // The user keeps its place in the plan, so that the ramp does not replace it (as in Locust).
  // A ramp-down may have taken it from the plan already.
  const int selected = plan_.selected_class(event.class_index);
  if (selected >= 0) distribution_.mark_ended(selected, event.worker);
  stop_if_all_users_ended();
}

void ClosedModel::stop_if_all_users_ended() {
  if (active_ && plan_.load_shape.kind == script::LoadShapeInfo::Kind::None && reached_once_ && !ramping_ &&
      users_ended_ > 0 && distribution_.live_total() == 0)
    host_.begin_stop("All users have stopped");
}

void ClosedModel::stop() {
  active_ = false;
  uv_timer_stop(&spawn_timer_);
  uv_timer_stop(&shape_timer_);
}

void ClosedModel::close() {
  for (uv_timer_t* timer : {&spawn_timer_, &shape_timer_})
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(timer))) uv_close(reinterpret_cast<uv_handle_t*>(timer), nullptr);
}

std::string ClosedModel::class_mix() const {
  std::string mix = "{";
  for (std::size_t i = 0; i < plan_.classes.size(); ++i) {
    if (i) mix += ", ";
    mix += "\"" + plan_.classes[i].name + "\": " + std::to_string(distribution_.live_class_count(static_cast<int>(i)));
  }
  return mix + "}";
}

}  // namespace cicada::runner
