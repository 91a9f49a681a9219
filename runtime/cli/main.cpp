// cicada: load-testing runtime. Subcommands: run (default), target, options, version, help.
#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "runtime/cli/run_command.h"
#include "runtime/target/target_main.h"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: cicada run SCRIPT [USERCLASS...] [-H URL] [-u N] [-r N] [-t TIME] [options]\n"
               "       cicada target [--host 127.0.0.1] [--port 8080] [--threads N]\n"
               "       cicada options [--markdown]\n"
               "       cicada version\n"
               "\n"
               "Run 'cicada run --help' or 'cicada target --help' for the options of each.\n");
}

// Every user holds a connection, so thousands of users need thousands of descriptors: take
// the hard limit rather than the usual soft 1024.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

int main(int argc, char** argv) {
  raise_open_file_limit();
  // A write to a connection the peer has closed must be an error value (EPIPE) that the
  // connection records as a failure, never a signal that ends the run with every report lost.
  std::signal(SIGPIPE, SIG_IGN);
  // Large response bodies come and go (up to max_body each): a fixed threshold keeps them in
  // their own mappings, returned to the system when freed. glibc's default threshold rises to
  // the largest block freed so far, after which such bodies land in the heap and its
  // fragments stay resident (seen: ~24 MB held per user after an endless body).
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  std::string_view command = argv[1];
  if (command == "run") return cicada::cli::run_main(argc - 1, argv + 1);
  if (command == "options") return cicada::cli::options_main(argc - 1, argv + 1);
  if (command == "target") return cicada::target::target_main(argc - 1, argv + 1);
  if (command == "version" || command == "--version" || command == "-V") {
    std::printf("cicada %s\n", CICADA_VERSION);
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    print_usage(stdout);
    return 0;
  }
  // Locust habit: `cicada -f script.lua --headless ...` means run.
  if (command.starts_with("-") || command.ends_with(".lua")) return cicada::cli::run_main(argc, argv);
  std::fprintf(stderr, "cicada: unknown command '%s'\n", argv[1]);
  print_usage(stderr);
  return 2;
}
