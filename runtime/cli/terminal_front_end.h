#pragma once
// The terminal as a front-end of a run: Locust's keys (w/W add 1/10 users, s/S remove 1/10)
// once a closed-model test at a fixed user count has begun, Ctrl-C in raw mode handed on as
// SIGINT, and the terminal put back on every way out. It drives the run only through the
// controller, like the web UI and a distributed master.
#include "runtime/cli/terminal_keys.h"
#include "runtime/control/run_controller.h"

namespace cicada::cli {

class TerminalFrontEnd {
 public:
  explicit TerminalFrontEnd(control::RunController& run);
  TerminalFrontEnd(const TerminalFrontEnd&) = delete;
  TerminalFrontEnd& operator=(const TerminalFrontEnd&) = delete;

 private:
  void on_phase(control::RunPhase from, control::RunPhase to);
  void on_key(TerminalKeys::Key key);

  control::RunController& run_;
  TerminalKeys keys_;
  bool keys_offered_ = false;
};

}  // namespace cicada::cli
