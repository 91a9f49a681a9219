#include "runtime/cli/terminal_keys.h"

#include <unistd.h>

#include <cstdlib>

namespace cicada::cli {

namespace {

constexpr char kCtrlC = 0x03;

}  // namespace

void TerminalKeys::restore_terminal() { uv_tty_reset_mode(); }

bool TerminalKeys::start(uv_loop_t* loop, std::function<void(Key)> on_key) {
  if (tty_ || !isatty(STDIN_FILENO)) return false;
  // tcgetpgrp fails when stdin is a terminal but not our controlling one; reading it then
  // cannot stop us. It succeeds with another group when we run in the background.
  const pid_t foreground = tcgetpgrp(STDIN_FILENO);
  if (foreground != -1 && foreground != getpgrp()) return false;
  auto* tty = new uv_tty_t;
  if (uv_tty_init(loop, tty, STDIN_FILENO, 1) != 0) {
    delete tty;
    return false;
  }
  tty_ = tty;
  tty_->data = this;
  on_key_ = std::move(on_key);
  static const bool registered = std::atexit(restore_terminal) == 0;
  (void)registered;
  uv_tty_set_mode(tty_, UV_TTY_MODE_RAW);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(tty_),
      [](uv_handle_t*, std::size_t, uv_buf_t* buf) {
        static char buffer[64];  // a key press at a time; read callbacks do not overlap
        *buf = uv_buf_init(buffer, sizeof buffer);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
        auto* self = static_cast<TerminalKeys*>(stream->data);
        if (nread < 0) {
          // The terminal went away (EOF, hang-up): stop reading, keep running.
          uv_read_stop(stream);
          return;
        }
        for (ssize_t i = 0; i < nread && self->tty_; ++i) {
          switch (buf->base[i]) {
            case 'w': self->on_key_(Key::AddOne); break;
            case 'W': self->on_key_(Key::AddTen); break;
            case 's': self->on_key_(Key::RemoveOne); break;
            case 'S': self->on_key_(Key::RemoveTen); break;
            case kCtrlC: self->on_key_(Key::Interrupt); break;
            default: break;
          }
        }
      });
  return true;
}

void TerminalKeys::close() {
  if (!tty_) return;
  uv_tty_set_mode(tty_, UV_TTY_MODE_NORMAL);
  uv_read_stop(reinterpret_cast<uv_stream_t*>(tty_));
  uv_close(reinterpret_cast<uv_handle_t*>(tty_), [](uv_handle_t* handle) { delete reinterpret_cast<uv_tty_t*>(handle); });
  tty_ = nullptr;
}

}  // namespace cicada::cli
