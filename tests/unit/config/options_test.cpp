#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <variant>

#include "runtime/config/option_layers.h"
#include "runtime/config/option_table.h"

using namespace cicada::config;

namespace {

std::map<std::string, std::string> fake_files;

std::optional<std::string> read_fake(const std::string& path) {
  auto it = fake_files.find(path);
  if (it == fake_files.end()) return std::nullopt;
  return it->second;
}

struct Resolved {
  bool ok;
  std::string error;
  ResolvedCommand command;
};

Resolved resolve(std::initializer_list<const char*> args, std::vector<const char*> env = {}) {
  std::vector<const char*> argv{"run"};
  argv.insert(argv.end(), args.begin(), args.end());
  env.push_back(nullptr);
  Resolved r;
  r.ok = resolve_command(static_cast<int>(argv.size()), argv.data(), env.data(), &read_fake, &r.command, &r.error);
  return r;
}

}  // namespace

TEST_CASE("run options with Locust's flags") {
  fake_files.clear();
  auto r = resolve({"shop.lua", "Shopper", "Admin", "-H", "http://127.0.0.1:8080", "-u", "100", "-r", "10", "-t", "1m",
                    "--threads", "2", "--iterations", "500", "--headless", "-T", "a,b", "-T", "c", "-E", "slow",
                    "--stop-timeout", "5s"});
  REQUIRE_MESSAGE(r.ok, r.error);
  const auto& o = r.command.options;
  CHECK(o.script == "shop.lua");
  CHECK(o.user_classes == std::vector<std::string>{"Shopper", "Admin"});
  CHECK(o.host == "http://127.0.0.1:8080");
  CHECK(o.users == 100);
  CHECK(o.spawn_rate == doctest::Approx(10));
  CHECK(o.run_time_s == doctest::Approx(60));
  CHECK(o.threads == 2);
  CHECK(o.iterations == 500);
  CHECK(o.tags == std::vector<std::string>{"a", "b", "c"});
  CHECK(o.exclude_tags == std::vector<std::string>{"slow"});
  CHECK(o.stop_timeout_s == doctest::Approx(5));
}

TEST_CASE("-f names the script and every positional is a class; --flag=value and -u5 forms") {
  fake_files.clear();
  auto r = resolve({"-f", "x.lua", "A", "--host=http://h", "-u5", "--spawn-rate=2.5", "-t90s", "-l", "--show-task-ratio"});
  REQUIRE_MESSAGE(r.ok, r.error);
  const auto& o = r.command.options;
  CHECK(o.script == "x.lua");
  CHECK(o.user_classes == std::vector<std::string>{"A"});
  CHECK(o.host == "http://h");
  CHECK(o.users == 5);
  CHECK(o.spawn_rate == doctest::Approx(2.5));
  CHECK(o.run_time_s == doctest::Approx(90));
  CHECK(o.list_classes);
  CHECK(o.show_task_ratio);
}

TEST_CASE("defaults") {
  fake_files.clear();
  auto r = resolve({"x.lua"});
  REQUIRE(r.ok);
  const auto& o = r.command.options;
  CHECK(o.users == 1);
  CHECK(o.spawn_rate == doctest::Approx(1));
  CHECK(o.run_time_s == 0);
  CHECK(o.iterations == -1);
  CHECK(o.threads == 0);
  CHECK(o.exit_code_on_error == 1);
  CHECK(o.tags.empty());
  CHECK(o.stop_timeout_s == 0);
}

TEST_CASE("precedence: script < config file < environment < command line") {
  fake_files.clear();
  fake_files["cicada.conf"] = "# defaults for the team\n[cicada]\nusers = 20\nspawn_rate = 4 ; comment\nrun-time = 2m\n"
                              "tags = nightly\nhost = http://file\n";
  auto r = resolve({"x.lua", "-u", "30"}, {"CICADA_SPAWN_RATE=8", "CICADA_HOST=http://env", "CICADA_BIN=/ignored",
                                          "OTHER=1"});
  REQUIRE_MESSAGE(r.ok, r.error);
  std::vector<RawOption> script{{"users", "1", "cicada.options{}"},
                                {"iterations", "77", "cicada.options{}"},
                                {"run-time", "10s", "cicada.options{}"},
                                {"tags", "smoke", "cicada.options{}"}};
  RunOptions final_options;
  std::string error;
  REQUIRE(apply_script_layer(r.command, script, &final_options, &error));
  CHECK(final_options.users == 30);                          // command line
  CHECK(final_options.spawn_rate == doctest::Approx(8));     // environment over the file
  CHECK(final_options.host == "http://env");
  CHECK(final_options.run_time_s == doctest::Approx(120));   // file over the script
  CHECK(final_options.tags == std::vector<std::string>{"nightly"});
  CHECK(final_options.iterations == 77);                     // only the script set it
  CHECK(final_options.script == "x.lua");
}

TEST_CASE("--config names the file, and a missing one is an error") {
  fake_files.clear();
  fake_files["team.conf"] = "users = 9\n";
  auto r = resolve({"x.lua", "--config", "team.conf"});
  REQUIRE(r.ok);
  CHECK(r.command.options.users == 9);
  auto missing = resolve({"x.lua", "--config=nope.conf"});
  CHECK_FALSE(missing.ok);
  CHECK(missing.error == "cannot read config file nope.conf");
  auto from_env = resolve({"x.lua"}, {"CICADA_CONFIG=team.conf"});
  REQUIRE(from_env.ok);
  CHECK(from_env.command.options.users == 9);
}

TEST_CASE("bad values name their source") {
  fake_files.clear();
  CHECK(resolve({}).error.find("no script") != std::string::npos);
  CHECK(resolve({"x.lua", "-u", "many"}).error == "command line: users needs a whole number >= 0, got 'many'");
  CHECK(resolve({"x.lua", "-r", "0"}).error.find("spawn-rate") != std::string::npos);
  CHECK(resolve({"x.lua", "-t", "soon"}).error.find("run-time") != std::string::npos);
  CHECK(resolve({"x.lua", "--iterations", "0"}).error.find("iterations") != std::string::npos);
  CHECK(resolve({"x.lua", "--threads"}).error.find("needs a value") != std::string::npos);
  CHECK(resolve({"x.lua", "--frobnicate", "1"}).error.find("unknown option --frobnicate") != std::string::npos);
  CHECK(resolve({"x.lua"}, {"CICADA_USERS=-3"}).error == "CICADA_USERS: users needs a whole number >= 0, got '-3'");
  fake_files["cicada.conf"] = "users = 2\nspeed = 11\n";
  CHECK(resolve({"x.lua"}).error == "cicada.conf:2: unknown option 'speed'");
  fake_files["cicada.conf"] = "just words\n";
  CHECK(resolve({"x.lua"}).error.find("cicada.conf:1: expected 'option = value'") != std::string::npos);
  fake_files.clear();
  CHECK(resolve({"--help"}).command.help);
}

TEST_CASE("open model and iteration options") {
  fake_files.clear();
  auto r = resolve({"x.lua", "--arrival-rate", "500/s", "--max-users", "80", "--max-queue-time", "2s",
                    "--iterations-per-user", "7"});
  REQUIRE_MESSAGE(r.ok, r.error);
  const auto& o = r.command.options;
  CHECK(o.arrival_rate == doctest::Approx(500));
  CHECK(o.max_users == 80);
  CHECK(o.max_queue_time_s == doctest::Approx(2));
  CHECK(o.iterations_per_user == 7);
  CHECK_FALSE(o.users_given);
  CHECK(o.users == 1);

  auto defaults = resolve({"x.lua", "-u", "3"});
  REQUIRE(defaults.ok);
  CHECK(defaults.command.options.users_given);
  CHECK(defaults.command.options.arrival_rate == 0);
  CHECK(defaults.command.options.max_queue_time_s == doctest::Approx(10));
  CHECK(defaults.command.options.iterations_per_user == -1);

  auto bad = resolve({"x.lua", "--arrival-rate", "0/s"});
  CHECK_FALSE(bad.ok);
  CHECK(bad.error == "command line: arrival-rate needs a rate > 0 like 500/s, 30/m or 500, got '0/s'");
  CHECK_FALSE(resolve({"x.lua", "--iterations-per-user", "0"}).ok);
  CHECK_FALSE(resolve({"x.lua", "--max-queue-time", "soon"}).ok);
}

TEST_CASE("the option table: one row per name and field, every name in canonical form") {
  std::set<std::string> names;
  std::set<char> short_flags;
  std::vector<OptionField> fields;
  for (const OptionSpec& spec : option_table()) {
    CHECK_MESSAGE(names.insert(spec.name).second, spec.name);
    CHECK(canonical_option_name(spec.name) == spec.name);
    if (spec.alias) CHECK_MESSAGE(names.insert(spec.alias).second, spec.alias);
    if (spec.short_flag) CHECK_MESSAGE(short_flags.insert(spec.short_flag).second, spec.name);
    if (!std::holds_alternative<std::monostate>(spec.field)) {
      CHECK_MESSAGE(std::find(fields.begin(), fields.end(), spec.field) == fields.end(), spec.name);
      fields.push_back(spec.field);
    }
    CHECK(find_option(spec.name) == &spec);
  }
  CHECK(names.size() > 25);
  CHECK(find_option("script") == find_option("locustfile"));
  CHECK(environment_name(*find_option("spawn-rate")) == "CICADA_SPAWN_RATE");
  CHECK(script_key(*find_option("spawn-rate")) == "spawn_rate");
  CHECK(std::string(script_type(*find_option("run-time"))) == "duration");
  CHECK_FALSE(find_option("speed"));
}

TEST_CASE("an unknown name is an error in every layer, with the closest option when there is one") {
  fake_files.clear();
  CHECK(resolve({"x.lua", "--user", "3"}).error == "unknown option --user (did you mean --users?) (see cicada run --help)");
  CHECK(resolve({"x.lua", "--frobnicate", "1"}).error == "unknown option --frobnicate (see cicada run --help)");
  CHECK(resolve({"x.lua"}, {"CICADA_USER=3"}).error == "CICADA_USER: not an option (did you mean CICADA_USERS?)");
  CHECK(resolve({"x.lua"}, {"CICADA_BIN=/usr/bin/cicada", "CICADA_SOURCE_DIR=/src"}).ok);
  fake_files["cicada.conf"] = "spawn-rat = 3\n";
  CHECK(resolve({"x.lua"}).error == "cicada.conf:1: unknown option 'spawn-rat' (did you mean spawn-rate?)");
  fake_files["cicada.conf"] = "config = other.conf\n";
  CHECK(resolve({"x.lua"}).error.find("cicada.conf:1: config names the file") == 0);
  fake_files.clear();
  ResolvedCommand command;
  command.options.script = "x.lua";
  RunOptions options;
  std::string error;
  CHECK_FALSE(apply_script_layer(command, {{"user", "3", "x.lua: cicada.options{}"}}, &options, &error));
  CHECK(error == "x.lua: cicada.options{}: unknown option 'user' (did you mean users?)");
}

TEST_CASE("every option takes its value from any layer through its row") {
  fake_files.clear();
  auto r = resolve({"x.lua", "--max-body-memory", "64", "--stop-timeout", "2s", "--max-queue-time", "1s",
                    "--iterations-per-user", "4", "--csv", "out/x", "--json", "--insecure", "--headless"},
                   {"CICADA_EXIT_CODE_ON_ERROR=7", "CICADA_MAX_USERS=9"});
  REQUIRE(r.ok);
  const RunOptions& o = r.command.options;
  CHECK(o.max_body_memory_mib == 64);
  CHECK(o.stop_timeout_s == doctest::Approx(2));
  CHECK(o.max_queue_time_s == doctest::Approx(1));
  CHECK(o.iterations_per_user == 4);
  CHECK(o.csv_prefix == "out/x");
  CHECK(o.json);
  CHECK(o.insecure);
  CHECK(o.exit_code_on_error == 7);
  CHECK(o.max_users == 9);
  CHECK(o.users == 1);
  CHECK_FALSE(o.users_given);
}
