#pragma once
// The phases of a run, one state machine that every reader shares: the console and reports,
// the terminal keys, and next the web UI's `state` and the distributed heartbeat.
//
//   ready ──► spawning ◄──► running
//     │          │             │
//     │          └──► stopping ◄┘
//     └───────────────► │
//                       ▼
//                    stopped
//
// ready: the plan is checked and the workers start; nothing runs until start().
// spawning: users are being started or stopped towards a target (or the open model's pool).
// running: the load is at its target. stopping: users are stopping. stopped: the run is over
// (its reports are being written or are written). A run that fails before it starts goes
// from ready to stopped.
#include <functional>
#include <vector>

namespace cicada::control {

enum class RunPhase { Ready, Spawning, Running, Stopping, Stopped };

// "ready", "spawning", "running", "stopping", "stopped": Locust's names for the same states.
const char* phase_name(RunPhase phase);

class RunPhaseMachine {
 public:
  using Listener = std::function<void(RunPhase from, RunPhase to)>;

  RunPhase phase() const { return phase_; }
  bool is(RunPhase phase) const { return phase_ == phase; }
  // True while users may be started or stopped by the load (spawning or running).
  bool is_active() const { return phase_ == RunPhase::Spawning || phase_ == RunPhase::Running; }
  // Moves to `next` when the machine allows it (see the drawing); false, and no change, otherwise.
  // Moving to the phase it is in is allowed and changes nothing.
  bool advance(RunPhase next);
  static bool allowed(RunPhase from, RunPhase to);
  // Called after every change, in the order added.
  void add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

 private:
  RunPhase phase_ = RunPhase::Ready;
  std::vector<Listener> listeners_;
};

}  // namespace cicada::control
