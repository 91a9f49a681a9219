#pragma once
// JUnit XML (--junit FILE): one test case per threshold, for CI systems that show test results
// (GitLab, Jenkins, GitHub Actions through a reporter action). A failed threshold is a failed
// test case whose message holds the measured value.
#include <string>

#include "runtime/report/report_content.h"

namespace cicada::report {

std::string junit_report(const ReportContent& content);

}  // namespace cicada::report
