#include "runtime/control/run_phase.h"

namespace cicada::control {

const char* phase_name(RunPhase phase) {
  switch (phase) {
    case RunPhase::Ready: return "ready";
    case RunPhase::Spawning: return "spawning";
    case RunPhase::Running: return "running";
    case RunPhase::Stopping: return "stopping";
    case RunPhase::Stopped: return "stopped";
  }
  return "?";
}

bool RunPhaseMachine::allowed(RunPhase from, RunPhase to) {
  if (from == to) return true;
  switch (from) {
    case RunPhase::Ready: return to == RunPhase::Spawning || to == RunPhase::Stopping || to == RunPhase::Stopped;
    case RunPhase::Spawning: return to == RunPhase::Running || to == RunPhase::Stopping;
    case RunPhase::Running: return to == RunPhase::Spawning || to == RunPhase::Stopping;
    case RunPhase::Stopping: return to == RunPhase::Stopped;
    case RunPhase::Stopped: return false;
  }
  return false;
}

bool RunPhaseMachine::advance(RunPhase next) {
  if (!allowed(phase_, next)) return false;
  if (next == phase_) return true;
  const RunPhase from = phase_;
  phase_ = next;
  for (const Listener& listener : listeners_) listener(from, next);
  return true;
}

}  // namespace cicada::control
