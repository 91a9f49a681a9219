// libFuzzer target: the threshold expression parser (runtime/report/thresholds.cpp), in both
// forms: --threshold "GET /items p95<100ms abort_on_fail delay=10s" and the script's
// {["GET /items p95"] = "<100ms"}. Property: what parses has a printable text that parses
// again to the same threshold.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/report/thresholds.h"

using namespace cicada::report;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  if (auto threshold = parse_threshold(input, &error)) {
    const std::string text = threshold->text();
    auto again = parse_threshold(text, &error);
    if (!again || again->text() != text) std::abort();
    (void)threshold->unit();
  }
  const std::size_t split = input.find('\n');
  if (split != std::string_view::npos) (void)parse_threshold_parts(input.substr(0, split), input.substr(split + 1), &error);
  return 0;
}
