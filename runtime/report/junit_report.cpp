#include "runtime/report/junit_report.h"

#include "runtime/report/text_format.h"

namespace cicada::report {

namespace {

// XML 1.0 has no place for control characters other than tab and line breaks, even escaped.
std::string xml_text(std::string_view text) {
  std::string clean(text);
  for (char& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') c = '?';
  return escape_markup(clean);
}

std::string attribute(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + xml_text(value) + "\"";
}

// "shop" for "examples/shop.lua": the suite's class name.
std::string script_stem(const std::string& script) {
  std::string stem = script.substr(script.find_last_of('/') + 1);
  if (const auto dot = stem.rfind('.'); dot != std::string::npos && dot > 0) stem.resize(dot);
  return stem.empty() ? "script" : stem;
}

}  // namespace

std::string junit_report(const ReportContent& content) {
  const RunInfo& info = content.info;
  std::size_t failed = 0;
  for (const ThresholdResult& result : content.thresholds) failed += result.passed ? 0 : 1;
  const std::string tests = std::to_string(content.thresholds.size());
  const std::string failures = std::to_string(failed);
  const std::string seconds = format_decimal(info.duration_s, 3);
  const std::string class_name = "cicada.thresholds." + script_stem(info.script);

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites" + attribute("name", "cicada") + attribute("tests", tests) + attribute("failures", failures) +
         attribute("errors", "0") + attribute("time", seconds) + ">\n";
  out += "  <testsuite" + attribute("name", "cicada thresholds: " + info.script) + attribute("tests", tests) +
         attribute("failures", failures) + attribute("errors", "0") + attribute("skipped", "0") +
         attribute("time", seconds) + attribute("timestamp", iso8601_utc(info.start_unix_s)) + ">\n";
  out += "    <properties>\n";
  auto property = [&out](std::string_view name, std::string_view value) {
    out += "      <property" + attribute("name", name) + attribute("value", value) + "/>\n";
  };
  property("host", info.host);
  property("users", std::to_string(info.users));
  property("spawn_rate", format_decimal(info.spawn_rate, 3));
  property("duration_s", seconds);
  property("requests", std::to_string(content.run.book().total().num_requests));
  property("failures", std::to_string(content.run.book().total().num_failures));
  std::uint64_t in_flight = 0;
  for (const auto& [key, entry] : content.run.book().in_flight_at_stop()) in_flight += entry.count;
  property("in_flight_at_stop", std::to_string(in_flight));
  property("exit_code", std::to_string(info.exit_code));
  out += "    </properties>\n";
  for (const ThresholdResult& result : content.thresholds) {
    const Threshold& threshold = result.threshold;
    out += "    <testcase" + attribute("name", threshold.text()) + attribute("classname", class_name) +
           attribute("time", seconds);
    const std::string value = format_threshold_value(threshold, result.measurement);
    if (result.passed) {
      out += ">\n      <system-out>" + xml_text(threshold.metric_name + " was " + value) + "</system-out>\n";
    } else {
      std::string message = result.measurement.has_data
                                ? threshold.metric_name + " was " + value + ", needed " + threshold.text()
                                : "no request matched, so " + threshold.text() + " cannot hold";
      if (result.aborted_test) message += "; it " + result.abort_note;
      out += ">\n      <failure" + attribute("message", message) + attribute("type", "threshold") + ">" +
             xml_text(message + "\n(declared in " + threshold.source + ")") + "</failure>\n";
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace cicada::report
