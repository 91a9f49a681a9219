// libFuzzer target: Locust's master/worker messages as a worker or a master receives them
// (runtime/dist/locust_protocol.cpp): any bytes are decoded, and what decodes is read as a
// spawn order and as a stats report. Property: nothing crashes or throws, a refused report
// leaves the book as it was, and a report read twice counts twice.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/dist/locust_protocol.h"

using namespace cicada;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto message = dist::decode_message(bytes, &error);
  if (!message) {
    if (error.empty()) std::abort();
    return 0;
  }
  (void)dist::read_spawn(message->data(), &error);
  stats::StatsBook book;
  int users = 0;
  if (!dist::read_stats_report(message->data(), &book, &users, &error)) {
    if (!book.empty()) std::abort();
    return 0;
  }
  const std::uint64_t once = book.total().num_requests;
  if (!dist::read_stats_report(message->data(), &book, &users, &error) || book.total().num_requests != 2 * once)
    std::abort();
  return 0;
}
