#include "runtime/report/console_report.h"

#include <doctest/doctest.h>

#include <cstdarg>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

using cicada::report::error_report;
using cicada::report::exception_report;
using cicada::report::format_ms;
using cicada::report::percentile_table;
using cicada::report::stats_table;
using cicada::stats::RunStats;
using cicada::stats::StatsBook;

namespace {

// printf into a std::string; the expected lines are built from Locust's format strings.
__attribute__((format(printf, 1, 2))) std::string sprintf_line(const char* format, ...) {
  char buffer[1024];
  std::va_list args;
  va_start(args, format);
  const int length = std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  REQUIRE(length >= 0);
  REQUIRE(static_cast<std::size_t>(length) < sizeof buffer);
  return std::string(buffer) + "\n";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Locust's separators, spelled the way stats.py builds them.
std::string dashes(int n) { return std::string(static_cast<std::size_t>(n), '-'); }
const std::string kStatsSeparator = dashes(8) + "|" + dashes(76) + "|" + dashes(7) + "|" + dashes(13) + "|" + dashes(7) +
                                    "|" + dashes(7) + "|" + dashes(7) + "|" + dashes(7) + "|" + dashes(8) + "|" +
                                    dashes(11) + "\n";
const std::string kPercentileSeparator = [] {
  std::string s = dashes(8) + "|" + dashes(80) + "|" + dashes(8) + "|";
  for (int i = 0; i < 11; ++i) s += dashes(6) + "|";
  s.pop_back();
  return s + "\n";
}();
const std::string kOccurrencesSeparator = dashes(18) + "|" + dashes(141) + "\n";

// Header lines as Locust prints them with STATS_NAME_WIDTH = 80 (copied from its output).
const std::string kStatsHeader = "Type     Name" + std::string(74, ' ') +
                                 "# reqs      # fails |    Avg     Min     Max    Med |   req/s  failures/s\n";
const std::string kPercentileHeader = "Type     Name" + std::string(82, ' ') +
                                      "50%    66%    75%    80%    90%    95%    98%    99%  99.9% 99.99%   100% # reqs\n";
const std::string kErrorHeader = "# occurrences      Error" + std::string(95, ' ') + "\n";

// GET /       850
// GET /items  450, 12000, 30000 (HTTP 500)
// POST /login 5000, 5000 (connect refused)
StatsBook shop_book() {
  StatsBook book;
  book.record_request("POST", "/login", 5000, 20, "");
  book.record_request("GET", "/items", 450, 100, "");
  book.record_request("GET", "/items", 12000, 100, "");
  book.record_request("GET", "/items", 30000, 0, "HTTP 500");
  book.record_request("POST", "/login", 5000, 0, "connect refused");
  book.record_request("GET", "/", 850, 5, "");
  return book;
}

std::string stats_row(const char* method, const char* name, int requests, const char* failures, const char* avg,
                      const char* min, const char* max, const char* median, double rps, double fail_per_sec) {
  return sprintf_line("%-8s %-76s %7d %12s |%7s %7s %7s%7s | %7.2f %11.2f", method, name, requests, failures, avg, min,
                      max, median, rps, fail_per_sec);
}

}  // namespace

TEST_CASE("console: format_ms keeps two decimals below 10 ms, whole ms from 10") {
  CHECK(format_ms(0.0) == "0.00");
  CHECK(format_ms(0.001) == "0.00");
  CHECK(format_ms(0.45) == "0.45");
  CHECK(format_ms(1.234) == "1.23");
  CHECK(format_ms(9.99) == "9.99");
  CHECK(format_ms(9.996) == "10");  // would print as "10.00"
  CHECK(format_ms(10.0) == "10");
  CHECK(format_ms(12.4) == "12");
  CHECK(format_ms(12.5) == "13");
  CHECK(format_ms(13.5) == "14");
  CHECK(format_ms(1234.0) == "1234");
  CHECK(format_ms(1234567.8) == "1234568");
}

TEST_CASE("console: header lines match Locust's format strings") {
  CHECK(kStatsHeader == sprintf_line("%-8s %-76s %7s %12s |%7s %7s %7s%7s | %7s %11s", "Type", "Name", "# reqs",
                                     "# fails", "Avg", "Min", "Max", "Med", "req/s", "failures/s"));
  CHECK(kPercentileHeader == sprintf_line("%-8s %-80s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s", "Type", "Name",
                                          "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%",
                                          "100%", "# reqs"));
  CHECK(kErrorHeader == sprintf_line("%-18s %-100s", "# occurrences", "Error"));
  CHECK(kStatsHeader.size() == 161);
  CHECK(kPercentileHeader.size() == 176);
}

TEST_CASE("console: stats table with current rates") {
  RunStats run;
  run.merge_delta(shop_book());
  run.close_second();
  run.close_second();  // an idle second halves the current rates

  const std::string expected = kStatsHeader + kStatsSeparator +
                               stats_row("GET", "/", 1, "0(0.00%)", "0.85", "0.85", "0.85", "0.85", 0.5, 0.0) +
                               stats_row("GET", "/items", 3, "1(33.33%)", "14", "0.45", "30", "12", 1.5, 0.5) +
                               stats_row("POST", "/login", 2, "1(50.00%)", "5.00", "5.00", "5.00", "5.00", 1.0, 0.5) +
                               kStatsSeparator +
                               stats_row("", "Aggregated", 6, "2(33.33%)", "8.88", "0.45", "30", "5.00", 3.0, 1.0);
  const std::string table = stats_table(run, true);
  CHECK(table == expected);

  for (const std::string& line : lines_of(table)) CHECK(line.size() == 160);
  CHECK(table.back() == '\n');
}

TEST_CASE("console: stats table with whole-run rates") {
  RunStats run;
  run.set_start_time(1000.0);
  run.merge_delta(shop_book());
  run.note_time(1004.0);
  const std::string expected = kStatsHeader + kStatsSeparator +
                               stats_row("GET", "/", 1, "0(0.00%)", "0.85", "0.85", "0.85", "0.85", 0.25, 0.0) +
                               stats_row("GET", "/items", 3, "1(33.33%)", "14", "0.45", "30", "12", 0.75, 0.25) +
                               stats_row("POST", "/login", 2, "1(50.00%)", "5.00", "5.00", "5.00", "5.00", 0.5, 0.25) +
                               kStatsSeparator +
                               stats_row("", "Aggregated", 6, "2(33.33%)", "8.88", "0.45", "30", "5.00", 1.5, 0.5);
  CHECK(stats_table(run, false) == expected);
}

TEST_CASE("console: stats table of an empty run has just the Aggregated row") {
  RunStats run;
  const std::string expected = kStatsHeader + kStatsSeparator + kStatsSeparator +
                               stats_row("", "Aggregated", 0, "0(0.00%)", "0.00", "0.00", "0.00", "0.00", 0.0, 0.0);
  CHECK(stats_table(run, true) == expected);
  CHECK(stats_table(run, false) == expected);
}

TEST_CASE("console: long names and methods are not truncated") {
  const std::string long_name = "/" + std::string(99, 'x');
  StatsBook book;
  book.record_request("GET", long_name, 2000, 0, "");
  book.record_request("PROPPATCH", "/dav", 2000, 0, "");
  RunStats run;
  run.merge_delta(book);
  const std::string table = stats_table(run, true);
  CHECK(table.find("GET      " + long_name + "       1 ") != std::string::npos);
  // Locust appends a space to the method before padding it to 8, visible only for long methods.
  CHECK(table.find("\nPROPPATCH  /dav ") != std::string::npos);
  CHECK(percentile_table(run).find("GET      " + long_name + "     2.00 ") != std::string::npos);
}

TEST_CASE("console: percentile table") {
  RunStats run;
  run.merge_delta(shop_book());
  const char* row = "%-8s %-80s %8s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6s %6d";
  const std::string expected =
      "Response time percentiles (approximated)\n" + kPercentileHeader + kPercentileSeparator +
      sprintf_line(row, "GET", "/", "0.85", "0.85", "0.85", "0.85", "0.85", "0.85", "0.85", "0.85", "0.85", "0.85",
                   "0.85", 1) +
      sprintf_line(row, "GET", "/items", "12", "12", "30", "30", "30", "30", "30", "30", "30", "30", "30", 3) +
      sprintf_line(row, "POST", "/login", "5.00", "5.00", "5.00", "5.00", "5.00", "5.00", "5.00", "5.00", "5.00",
                   "5.00", "5.00", 2) +
      kPercentileSeparator +
      sprintf_line(row, "", "Aggregated", "5.00", "5.00", "12", "12", "30", "30", "30", "30", "30", "30", "30", 6);
  const std::string table = percentile_table(run);
  CHECK(table == expected);

  const auto lines = lines_of(table);
  REQUIRE(lines.size() == 8);
  for (std::size_t i = 1; i < lines.size(); ++i) CHECK(lines[i].size() == 175);
}

TEST_CASE("console: percentile table of an empty run has no rows") {
  RunStats run;
  CHECK(percentile_table(run) ==
        "Response time percentiles (approximated)\n" + kPercentileHeader + kPercentileSeparator + kPercentileSeparator);
}

TEST_CASE("console: error report") {
  RunStats run;
  CHECK(error_report(run).empty());
  run.merge_delta(shop_book());  // failures but not the ones below: checks merging too
  StatsBook more;
  for (int i = 0; i < 2; ++i) more.record_request("GET", "/items", 100, 0, "HTTP 500");
  for (int i = 0; i < 3; ++i) more.record_request("DELETE", "/z", 100, 0, "HTTP 404");
  more.record_request("GET", "/a", 100, 0, "timeout");
  more.record_request("GET", "/items", 100, 0, "");
  run.merge_delta(more);

  // By occurrences, most first; ties in (method, name, error) order.
  const std::string expected = "Error report\n" + kErrorHeader + kOccurrencesSeparator +
                               sprintf_line("%-18i %-100s", 3, "DELETE /z: HTTP 404") +
                               sprintf_line("%-18i %-100s", 3, "GET /items: HTTP 500") +
                               sprintf_line("%-18i %-100s", 1, "GET /a: timeout") +
                               sprintf_line("%-18i %-100s", 1, "POST /login: connect refused") +
                               kOccurrencesSeparator + "\n";
  const std::string report = error_report(run);
  CHECK(report == expected);
  CHECK(lines_of(report)[3].size() == 119);  // padded to 100 like Locust's %-100s
}

TEST_CASE("console: exception report") {
  RunStats run;
  CHECK(exception_report(run).empty());
  StatsBook book;
  for (int i = 0; i < 2; ++i)
    book.record_exception("shop.lua:10: boom", "stack traceback:\n\tshop.lua:10: in function 'task'\n\t[C]: in ?");
  for (int i = 0; i < 3; ++i) book.record_exception("bad argument", "");
  book.record_exception("multi\nline", "tb\n");
  run.merge_delta(book);

  const std::string indent(19, ' ');
  const std::string expected = "Exceptions\n" + sprintf_line("%-18s %s", "# occurrences", "Message") +
                               kOccurrencesSeparator + sprintf_line("%-18i %s", 3, "bad argument") +
                               sprintf_line("%-18i %s", 2, "shop.lua:10: boom") + indent + "stack traceback:\n" +
                               indent + "\tshop.lua:10: in function 'task'\n" + indent + "\t[C]: in ?\n" +
                               sprintf_line("%-18i %s", 1, "multi") + indent + "line\n" + indent + "tb\n" +
                               kOccurrencesSeparator + "\n";
  CHECK(exception_report(run) == expected);
  CHECK(error_report(run).empty());  // exceptions are not request failures
}
