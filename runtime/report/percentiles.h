#pragma once
// The response-time percentiles every report shows, Locust's PERCENTILES_TO_REPORT.
#include <array>

namespace cicada::report {

inline constexpr std::array<double, 11> kReportedPercentiles = {0.50, 0.66, 0.75, 0.80, 0.90, 0.95,
                                                                0.98, 0.99, 0.999, 0.9999, 1.0};
// Locust's column labels for them (console and CSV headers).
inline constexpr std::array<const char*, 11> kPercentileLabels = {"50%", "66%", "75%",   "80%",    "90%", "95%",
                                                                  "98%", "99%", "99.9%", "99.99%", "100%"};

}  // namespace cicada::report
