#pragma once
// GET /metrics: the run in Prometheus' text exposition format (version 0.0.4), with
// Prometheus' naming (base units, `_total` on counters). The metric list is in docs/web-ui.md.
#include <string>

#include "runtime/control/run_controller.h"

namespace cicada::web {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_metrics(const control::RunSnapshot& run);

}  // namespace cicada::web
