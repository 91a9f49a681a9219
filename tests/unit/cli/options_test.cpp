#include <doctest/doctest.h>

#include "runtime/cli/options.h"

using cicada::cli::parse_duration;
using cicada::cli::parse_run_options;

namespace {

cicada::cli::ParsedRunOptions parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"run"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_run_options(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST_CASE("durations accept Locust's forms") {
  CHECK(parse_duration("30s") == doctest::Approx(30));
  CHECK(parse_duration("5m") == doctest::Approx(300));
  CHECK(parse_duration("1h30m") == doctest::Approx(5400));
  CHECK(parse_duration("2h") == doctest::Approx(7200));
  CHECK(parse_duration("90") == doctest::Approx(90));
  CHECK(parse_duration("1.5s") == doctest::Approx(1.5));
  CHECK(parse_duration("250ms") == doctest::Approx(0.25));
  CHECK(parse_duration("1m30s") == doctest::Approx(90));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("abc"));
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("m"));
  CHECK_FALSE(parse_duration("-5"));
}

TEST_CASE("run options with Locust's flags") {
  auto parsed = parse({"shop.lua", "Shopper", "Admin", "-H", "http://127.0.0.1:8080", "-u", "100", "-r", "10", "-t",
                       "1m", "--threads", "2", "--iterations", "500", "--headless"});
  REQUIRE(parsed.options);
  const auto& o = *parsed.options;
  CHECK(o.script == "shop.lua");
  CHECK(o.user_classes == std::vector<std::string>{"Shopper", "Admin"});
  CHECK(o.host == "http://127.0.0.1:8080");
  CHECK(o.users == 100);
  CHECK(o.spawn_rate == doctest::Approx(10));
  CHECK(o.run_time_s == doctest::Approx(60));
  CHECK(o.threads == 2);
  CHECK(o.iterations == 500);
}

TEST_CASE("-f names the script and every positional is a class; --flag=value and -u5 forms") {
  auto parsed = parse({"-f", "x.lua", "A", "--host=http://h", "-u5", "--spawn-rate=2.5", "-t90s"});
  REQUIRE(parsed.options);
  CHECK(parsed.options->script == "x.lua");
  CHECK(parsed.options->user_classes == std::vector<std::string>{"A"});
  CHECK(parsed.options->host == "http://h");
  CHECK(parsed.options->users == 5);
  CHECK(parsed.options->spawn_rate == doctest::Approx(2.5));
  CHECK(parsed.options->run_time_s == doctest::Approx(90));
}

TEST_CASE("defaults") {
  auto parsed = parse({"x.lua"});
  REQUIRE(parsed.options);
  CHECK(parsed.options->users == 1);
  CHECK(parsed.options->spawn_rate == doctest::Approx(1));
  CHECK(parsed.options->run_time_s == 0);
  CHECK(parsed.options->iterations == -1);
  CHECK(parsed.options->threads == 0);
  CHECK(parsed.options->exit_code_on_error == 1);
}

TEST_CASE("bad options are clear errors") {
  CHECK(parse({}).error.find("no script") != std::string::npos);
  CHECK(parse({"x.lua", "-u", "many"}).error.find("-u/--users") != std::string::npos);
  CHECK(parse({"x.lua", "-r", "0"}).error.find("--spawn-rate") != std::string::npos);
  CHECK(parse({"x.lua", "-t", "soon"}).error.find("--run-time") != std::string::npos);
  CHECK(parse({"x.lua", "--iterations", "0"}).error.find("--iterations") != std::string::npos);
  CHECK(parse({"x.lua", "--threads"}).error.find("needs a value") != std::string::npos);
  CHECK(parse({"x.lua", "--frobnicate", "1"}).error.find("unknown option --frobnicate") != std::string::npos);
  CHECK_FALSE(parse({"x.lua", "-u", "many"}).options);
  CHECK(parse({"--help"}).help);
}
