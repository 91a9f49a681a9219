#pragma once
// The JSON summary (--json, --json-file, and the data inside the HTML report). The schema is in
// docs/reports.md; every entry carries its histogram, so runs can be merged or compared later.
#include <string>

#include "runtime/report/report_content.h"

namespace cicada::report {

inline constexpr int kJsonSchemaVersion = 1;

// One JSON document, ending in a newline.
std::string json_report(const ReportContent& content);

}  // namespace cicada::report
