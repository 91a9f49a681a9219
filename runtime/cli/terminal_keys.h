#pragma once
// Locust's keys while a test runs in a terminal: w/W add 1/10 users, s/S remove 1/10.
//
// Only when stdin is a terminal and cicada is its foreground job (a background job reading the
// terminal would be stopped by SIGTTIN). stdin goes to raw mode through a uv_tty_t on the
// coordinator's loop, so a key arrives without Enter and is not echoed; raw mode also turns
// Ctrl-C into a byte instead of SIGINT, so that byte is handed on as an interrupt. The terminal's
// mode is restored when the keys are closed, and on every other way out: exit() (atexit) and the
// _exit() paths, which call restore_terminal() first.
#include <uv.h>

#include <functional>

namespace cicada::cli {

class TerminalKeys {
 public:
  enum class Key { AddOne, AddTen, RemoveOne, RemoveTen, Interrupt };

  TerminalKeys() = default;
  ~TerminalKeys() { close(); }
  TerminalKeys(const TerminalKeys&) = delete;
  TerminalKeys& operator=(const TerminalKeys&) = delete;

  // False (and nothing set up) when stdin is not a terminal of ours.
  bool start(uv_loop_t* loop, std::function<void(Key)> on_key);
  // Restores the terminal and closes the handle (freed in its close callback).
  void close();

  // Async-signal-safe: puts the terminal back the way it was (a no-op when it was not changed).
  static void restore_terminal();

 private:
  uv_tty_t* tty_ = nullptr;
  std::function<void(Key)> on_key_;
};

}  // namespace cicada::cli
