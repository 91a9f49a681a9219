#include "runtime/cli/terminal_front_end.h"

#include <algorithm>
#include <csignal>

#include "runtime/common/log.h"

namespace cicada::cli {

TerminalFrontEnd::TerminalFrontEnd(control::RunController& run) : run_(run) {
  run_.phases().add_listener([this](control::RunPhase from, control::RunPhase to) { on_phase(from, to); });
  run_.add_exit_hook([] { TerminalKeys::restore_terminal(); });
}

void TerminalFrontEnd::on_phase(control::RunPhase, control::RunPhase to) {
  using control::RunPhase;
  if (to == RunPhase::Spawning && !keys_offered_) {
    keys_offered_ = true;
    // Locust's keys, for a test at a fixed user count (a shape decides the count itself, and
    // the open model has a rate, not a count).
    const control::RunSnapshot run = run_.snapshot();
    if (!run.open_model && !run.shape_driven) keys_.start(run_.loop(), [this](TerminalKeys::Key key) { on_key(key); });
  } else if (to == RunPhase::Stopping || to == RunPhase::Stopped) {
    keys_.close();  // the terminal goes back to normal while users stop and reports are written
  }
}

void TerminalFrontEnd::on_key(TerminalKeys::Key key) {
  using Key = TerminalKeys::Key;
  if (key == Key::Interrupt) {
    // Raw mode turned Ctrl-C into a byte: hand it on as the signal it would have been, so that
    // a second one exits at once as it does without the keys.
    std::raise(SIGINT);
    return;
  }
  const int change = key == Key::AddOne ? 1 : key == Key::AddTen ? 10 : key == Key::RemoveOne ? -1 : -10;
  const control::CommandResult result = run_.set_users(std::max(0, run_.snapshot().target_users + change), 0);
  if (!result.accepted) common::log_warning("%s", result.message.c_str());
}

}  // namespace cicada::cli
