#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "runtime/control/run_phase.h"

using cicada::control::phase_name;
using cicada::control::RunPhase;
using cicada::control::RunPhaseMachine;

TEST_CASE("a run goes ready -> spawning <-> running -> stopping -> stopped, and tells its listeners") {
  RunPhaseMachine phases;
  std::vector<std::string> seen;
  phases.add_listener([&](RunPhase from, RunPhase to) { seen.push_back(std::string(phase_name(from)) + ">" + phase_name(to)); });
  CHECK(phases.is(RunPhase::Ready));
  CHECK_FALSE(phases.is_active());
  CHECK(phases.advance(RunPhase::Spawning));
  CHECK(phases.is_active());
  CHECK(phases.advance(RunPhase::Running));
  CHECK(phases.advance(RunPhase::Running));  // staying put is no change
  CHECK(phases.advance(RunPhase::Spawning));  // a new target
  CHECK(phases.advance(RunPhase::Running));
  CHECK_FALSE(phases.advance(RunPhase::Ready));
  CHECK(phases.advance(RunPhase::Stopping));
  CHECK_FALSE(phases.advance(RunPhase::Running));
  CHECK(phases.advance(RunPhase::Stopped));
  CHECK_FALSE(phases.advance(RunPhase::Stopping));
  CHECK(phases.is(RunPhase::Stopped));
  CHECK(seen == std::vector<std::string>{"ready>spawning", "spawning>running", "running>spawning", "spawning>running",
                                         "running>stopping", "stopping>stopped"});
}

TEST_CASE("a run that fails or is stopped before it starts goes from ready to stopping or stopped") {
  CHECK(RunPhaseMachine::allowed(RunPhase::Ready, RunPhase::Stopped));
  CHECK(RunPhaseMachine::allowed(RunPhase::Ready, RunPhase::Stopping));
  CHECK_FALSE(RunPhaseMachine::allowed(RunPhase::Ready, RunPhase::Running));
  CHECK_FALSE(RunPhaseMachine::allowed(RunPhase::Spawning, RunPhase::Stopped));
  CHECK_FALSE(RunPhaseMachine::allowed(RunPhase::Stopped, RunPhase::Ready));
}
