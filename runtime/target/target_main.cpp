#include "runtime/target/target_main.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <optional>
#include <string_view>

#include "runtime/common/parse.h"
#include "runtime/common/text.h"
#include "runtime/target/server.h"

namespace cicada::target {

// The text and JSON helpers shared with the rest of the runtime (runtime/common).
using namespace cicada::common;

namespace {

constexpr unsigned kMaxThreads = 256;

constexpr const char* kUsage =
    "usage: cicada target [--host 127.0.0.1] [--port 8080] [--threads N] [--stall 1s/10s [--stall-start 9s]]\n"
    "\n"
    "A fast HTTP/1.1 server to aim load tests at.\n"
    "\n"
    "options:\n"
    "  --host HOST     address to listen on (IPv4 or IPv6, e.g. ::1); default 127.0.0.1\n"
    "  --port PORT     port to listen on, 0 for any free port; default 8080\n"
    "  --threads N     event-loop threads, each with its own SO_REUSEPORT socket; default 1\n"
    "  --stall D/P     stop answering for D of every P (1s/10s), as a paused process would;\n"
    "                  requests are held and answered when the stall ends\n"
    "  --stall-start T the first stall, T after the first request; default P - D\n"
    "  -h, --help      show this help\n"
    "\n"
    "endpoints: /  /json  /echo  /status/{code}  /delay/{ms}  /bytes/{n}  /chunked/{n}\n"
    "           /login (POST)  /items  /items/{id}  /close\n"
    "           and the APIs the examples use: /api/...  /status  /health/  /system/metrics\n"
    "           /analysis/  /lmcache/status  /optimize/run  /proxy/...\n"
    "           and for HTTP client tests: /redirect/{n}  /absolute-redirect/{n}  /redirect-to\n"
    "           /redirect-loop  /cookies  /cookies/set  /cookies/delete  /gzip  /deflate\n"
    "           /gzip/corrupt  /basic-auth/{user}/{password}  /response-headers  /anything\n"
    "           (see docs/target.md)\n";

std::optional<unsigned> parse_unsigned(std::string_view text, unsigned max) {
  const std::optional<uint64_t> value = parse_decimal(text);
  if (!value || *value > max) return std::nullopt;
  return static_cast<unsigned>(*value);
}

int usage_error(const char* message, std::string_view detail) {
  std::fprintf(stderr, "cicada target: %s '%.*s'\n(run 'cicada target --help' for the options)\n", message,
               static_cast<int>(detail.size()), detail.data());
  return 2;
}

}  // namespace

int target_main(int argc, char** argv) {
  ServerOptions options;
  std::optional<uint64_t> stall_start;  // --stall-start, in either order with --stall
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    // Both "--port 80" and "--port=80".
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const size_t equals = arg.find('='); arg.starts_with("--") && equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (name != "--host" && name != "--port" && name != "--threads" && name != "--stall" && name != "--stall-start") {
      return usage_error(arg.starts_with("-") ? "unknown option" : "unexpected argument", arg);
    }
    if (!value) {
      if (i + 1 == argc) return usage_error("missing value for", name);
      value = argv[++i];
    }
    if (name == "--host") {
      if (value->empty()) return usage_error("empty value for", name);
      options.host = std::string(*value);
    } else if (name == "--stall") {
      std::string error;
      const auto stall = parse_stall(*value, error);
      if (!stall) return usage_error(error.c_str(), *value);
      const uint64_t start = stall_start.value_or(stall->start_ns);
      options.stall = *stall;
      options.stall.start_ns = start;
    } else if (name == "--stall-start") {
      const auto start = common::parse_duration(*value);
      if (!start) return usage_error("--stall-start wants a duration like 4s, not", *value);
      stall_start = static_cast<uint64_t>(std::llround(*start * 1e9));
      options.stall.start_ns = *stall_start;
    } else if (name == "--port") {
      const auto port = parse_unsigned(*value, 65535);
      if (!port) return usage_error("--port wants 0..65535, not", *value);
      options.port = static_cast<uint16_t>(*port);
    } else {
      const auto threads = parse_unsigned(*value, kMaxThreads);
      if (!threads || *threads == 0) return usage_error("--threads wants 1..256, not", *value);
      options.threads = *threads;
    }
  }
  // A client that resets while we write must cost an EPIPE, not the process.
  std::signal(SIGPIPE, SIG_IGN);
  return serve(options);
}

}  // namespace cicada::target
