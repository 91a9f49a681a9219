#include <doctest/doctest.h>

#include <string>

#include "runtime/report/csv_report.h"
#include "runtime/report/html_report.h"
#include "runtime/report/json_report.h"
#include "runtime/report/junit_report.h"
#include "runtime/report/run_info.h"
#include "runtime/report/run_reports.h"
#include "runtime/report/text_format.h"

using namespace cicada::report;
using cicada::stats::RunStats;
using cicada::stats::StatsBook;

namespace {

RunStats two_entries() {
  StatsBook book;
  book.record_request("GET", "/a,b", 1500, 100, "");
  book.record_request("GET", "/a,b", 2500, 100, "HTTP 500 Internal Server Error");
  book.record_request("POST", "/login", 12'345, 7, "");
  book.record_exception("boom \"quoted\"", "stack traceback:\n\tx.lua:3: in function");
  RunStats run;
  run.set_start_time(0);
  run.merge_delta(book);
  run.note_time(2);
  return run;
}

}  // namespace

TEST_CASE("CSV fields are quoted only when Python's csv module would") {
  CHECK(csv::field("plain /path") == "plain /path");
  CHECK(csv::field("") == "");
  CHECK(csv::field("a,b") == "\"a,b\"");
  CHECK(csv::field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv::field("two\nlines") == "\"two\nlines\"");
  CHECK(csv::field("cr\r") == "\"cr\r\"");
}

TEST_CASE("the stats CSV has Locust's header, one row per entry and Aggregated last") {
  const std::string text = csv::stats_file(two_entries());
  const std::string header =
      "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
      "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
      "99.99%,100%\r\n";
  CHECK(text.starts_with(header));
  CHECK(text.find("\r\nGET,\"/a,b\",2,1,1.5,2,1.5,2.5,100,1,0.5,1.5,2.5,") != std::string::npos);
  CHECK(text.find("\r\nPOST,/login,1,0,12.345,12.345,12.345,12.345,7,0.5,0,12.345,") != std::string::npos);
  // Above 1.024 ms a percentile is its bucket's midpoint (2.501 for 2.5, 12.343 for 12.345)
  // unless that lies beyond the entry's exact minimum or maximum.
  CHECK(text.ends_with(",Aggregated,3,1,2.501,5.448,1.5,12.345,69,1.5,0.5,2.501,2.501,12.343,12.343,12.343,12.343,12.343,"
                       "12.343,12.343,12.343,12.345\r\n"));
}

TEST_CASE("an empty run's CSV says N/A for percentiles, as Locust does") {
  const std::string text = csv::stats_file(RunStats{});
  CHECK(text.ends_with("\r\n,Aggregated,0,0,0,0,0,0,0,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n"));
}

TEST_CASE("failures, exceptions and history CSVs") {
  const RunStats run = two_entries();
  CHECK(csv::failures_file(run) ==
        "Method,Name,Error,Occurrences\r\nGET,\"/a,b\",HTTP 500 Internal Server Error,1\r\n");
  CHECK(csv::exceptions_file(run) ==
        "Count,Message,Traceback,Nodes\r\n"
        "1,\"boom \"\"quoted\"\"\",\"stack traceback:\n\tx.lua:3: in function\",local\r\n");
  CHECK(csv::history_header() ==
        "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
        "Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,"
        "Total Min Response Time,Total Max Response Time,Total Average Content Size\r\n");

  RecentResponseTimes recent(true);
  StatsBook second;
  second.record_request("GET", "/a,b", 4000, 1, "");
  recent.add(second);
  recent.close_second();
  const std::string aggregated_only = csv::history_rows({run, recent, 1700000000, 3, false});
  CHECK(aggregated_only.starts_with("1700000000,3,,Aggregated,0.000000,0.000000,4,4,"));
  CHECK(aggregated_only.ends_with(",3,1,2.501,5.448,1.5,12.345,69\r\n"));
  const std::string full = csv::history_rows({run, recent, 1700000000, 3, true});
  CHECK(full.starts_with("1700000000,3,GET,\"/a,b\",0.000000,0.000000,4,4,"));
  // An entry with requests, none of them in the window: 0 like Locust's current percentiles.
  CHECK(full.find("\r\n1700000000,3,POST,/login,0.000000,0.000000,0,0,0,") != std::string::npos);
}

TEST_CASE("numbers keep the decimals that carry information") {
  CHECK(format_decimal(12.5, 3) == "12.5");
  CHECK(format_decimal(100, 3) == "100");
  CHECK(format_decimal(0.0449999, 3) == "0.045");
  CHECK(format_decimal(-0.0001, 3) == "0");
  CHECK(escape_markup("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST_CASE("Locust's placeholders in the HTML file name") {
  CHECK(expand_html_placeholders("report_u{u}_r{r}_t{t}.html", 100, 10, 60) == "report_u100_r10_t60.html");
  CHECK(expand_html_placeholders("{u}-{u}.html", 5, 0.5, 0) == "5-5.html");
  CHECK(expand_html_placeholders("r{r}_t{t}.html", 5, 0.5, 0) == "r0.5_t{t}.html");  // no run time: left as is
  CHECK(expand_html_placeholders("plain.html", 5, 1, 30) == "plain.html");
}

TEST_CASE("shell_command quotes what a shell would split") {
  CHECK(shell_command({"cicada", "run", "x.lua", "-u", "10"}) == "cicada run x.lua -u 10");
  CHECK(shell_command({"--threshold", "GET /a p95<1s"}) == "--threshold 'GET /a p95<1s'");
  CHECK(shell_command({"it's"}) == "'it'\\''s'");
  CHECK(iso8601_utc(1700000000.7) == "2023-11-14T22:13:20Z");
}

TEST_CASE("JSON, HTML and JUnit carry the thresholds") {
  const RunStats run = two_entries();
  std::string error;
  auto passing = parse_threshold("p95<1s", &error);
  auto failing = parse_threshold("GET /a,b failures<1", &error);
  REQUIRE(passing);
  REQUIRE(failing);
  failing->source = "test.lua:3";
  ThresholdEvaluator evaluator({*passing, *failing});
  const auto results = evaluator.evaluate(run);
  RunInfo info;
  info.script = "dir/shop.lua";
  info.host = "http://127.0.0.1:1";
  info.duration_s = 2;
  const std::vector<HistoryPoint> history = {{1700000000, 1, 2.5, 0.5, 1.5, std::nullopt, 2.5, 3, 1}};
  const ReportContent content{info, run, history, results};
  CHECK_FALSE(content.thresholds_passed());

  const std::string json = json_report(content);
  CHECK(json.find("\"thresholds_passed\":false") != std::string::npos);
  CHECK(json.find("\"threshold\":\"GET /a,b failures < 1\"") != std::string::npos);
  CHECK(json.find("\"p95_ms\":null") != std::string::npos);
  CHECK(json.find("\"buckets\":[[1500,1501,1],[2500,2503,1]]") != std::string::npos);
  CHECK(json.ends_with("}\n"));

  const std::string html = html_report(content, "{\"x\":\"</script>\"}");
  CHECK(html.find("<\\/script>") != std::string::npos);  // the data cannot close its element
  CHECK(html.find("1 of 2 thresholds failed") != std::string::npos);
  CHECK(html.find("GET /a,b failures &lt; 1") != std::string::npos);
  CHECK(html.find("uPlot") != std::string::npos);

  const std::string junit = junit_report(content);
  CHECK(junit.find("tests=\"2\" failures=\"1\"") != std::string::npos);
  CHECK(junit.find("classname=\"cicada.thresholds.shop\"") != std::string::npos);
  CHECK(junit.find("<failure message=\"failures was 1, needed GET /a,b failures &lt; 1\"") != std::string::npos);
  CHECK(junit.find("declared in test.lua:3") != std::string::npos);
}

TEST_CASE("a long run's history stays bounded: pairs merge, later points cover more seconds") {
  RunReports reports(ReportOutputs{});
  RunStats run;
  run.set_start_time(0);
  const int seconds = 2500;
  for (int second = 1; second <= seconds; ++second) {
    StatsBook delta;
    delta.record_request("GET", "/", second == 1234 ? 900'000 : 1000, 10, "");
    run.merge_delta(delta);
    reports.add_delta(delta);
    run.note_time(second);
    run.close_second();
    reports.on_second(run, 1000.0 + second, second == 1500 ? 77 : 5);
  }
  const auto& history = reports.history();
  CHECK(history.size() <= RunReports::kMaxHistoryPoints);
  CHECK(history.size() >= RunReports::kMaxHistoryPoints / 2);
  CHECK(history.front().unix_s == doctest::Approx(1001.0));
  for (std::size_t i = 1; i < history.size(); ++i) CHECK(history[i].unix_s > history[i - 1].unix_s);
  CHECK(history.back().requests == static_cast<std::uint64_t>(seconds));  // counts are the latest
  // A peak is never averaged away: the users' peak and the slow second's p99 survive merging.
  int peak_users = 0;
  double worst_p99 = 0;
  for (const auto& point : history) {
    peak_users = std::max(peak_users, point.users);
    if (point.p99_ms) worst_p99 = std::max(worst_p99, *point.p99_ms);
  }
  CHECK(peak_users == 77);
  CHECK(worst_p99 >= 800);
}
