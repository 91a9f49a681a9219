// libFuzzer target: the options' parsers (runtime/config/option_layers.cpp): cicada.conf text applied
// on top of the defaults, durations and rates. Nothing may crash; a duration or rate that
// parses is a finite number >= 0.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/common/parse.h"
#include "runtime/config/option_layers.h"

using namespace cicada::config;
using cicada::common::parse_duration;
using cicada::common::parse_rate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<RawOption> layer;
  std::string error;
  if (parse_config_text(input, "fuzz.conf", &layer, &error)) {
    RunOptions options;
    (void)apply_options(&options, layer, &error);
  }
  if (auto seconds = parse_duration(input); seconds && (!std::isfinite(*seconds) || *seconds < 0)) std::abort();
  if (auto rate = parse_rate(input); rate && (!std::isfinite(*rate) || *rate < 0)) std::abort();
  return 0;
}
