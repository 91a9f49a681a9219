"""Reports and thresholds through the real binary: Locust's CSV files byte for byte, CSV, JSON
and console agreeing on one run, --json on stdout, --only-summary, thresholds from the script
and the command line with their exit codes, abort_on_fail, JUnit, and Ctrl-C mid-run leaving
every file complete."""

import csv
import io
import json
import math
import os
import pathlib
import select
import signal
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ElementTree

from harness import REPO_ROOT, cicada_bin, run_cicada, run_tests, start_target
from servers import parse_report, silent_listener

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"

# Locust's headers, as its stats.py (StatsCSV, StatsCSVFileWriter) writes them with Python's csv
# module: comma-separated, "\r\n" at the end of each row.
PERCENTILES = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
STATS_HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
                "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
                + PERCENTILES + "\r\n").encode()
HISTORY_HEADER = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s," + PERCENTILES +
                  ",Total Request Count,Total Failure Count,Total Median Response Time,"
                  "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
                  "Total Average Content Size\r\n").encode()
FAILURES_HEADER = b"Method,Name,Error,Occurrences\r\n"
EXCEPTIONS_HEADER = b"Count,Message,Traceback,Nodes\r\n"
PERCENTILE_KEYS = ["p50", "p66", "p75", "p80", "p90", "p95", "p98", "p99", "p99.9", "p99.99", "p100"]


def run_scenario(scenario, target, *args, timeout=60):
    return run_cicada(["run", SCENARIOS / scenario, "-H", target.url, *args], timeout=timeout)


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def console_ms(ms):
    """cicada's console format for milliseconds (report::format_ms)."""
    text = "%.2f" % ms
    if ms < 10 and text != "10.00":
        return text
    return "%d" % math.floor(ms + 0.5)


def csv_ms(ms):
    """The CSV files' milliseconds: microsecond precision, no trailing zeros."""
    text = "%.3f" % ms
    return text.rstrip("0").rstrip(".") if "." in text else text


def test_csv_files_have_locusts_names_and_headers():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "out", "run")  # the folder is created
        result = run_scenario("report_mix.lua", target, "-u", "2", "-r", "100", "-i", "100", "--csv", prefix)
        assert result.returncode == 1, result.stderr  # the deliberate failures
        assert sorted(os.listdir(os.path.dirname(prefix))) == [
            "run_exceptions.csv", "run_failures.csv", "run_stats.csv", "run_stats_history.csv"]
        files = {name: pathlib.Path(prefix + name).read_bytes()
                 for name in ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")}
        assert files["_stats.csv"].startswith(STATS_HEADER)
        assert files["_stats_history.csv"].startswith(HISTORY_HEADER)
        assert files["_failures.csv"].startswith(FAILURES_HEADER)
        assert files["_exceptions.csv"].startswith(EXCEPTIONS_HEADER)
        for name, content in files.items():
            assert content.endswith(b"\r\n"), name
            if name != "_exceptions.csv":  # tracebacks keep their own line breaks, inside quotes
                assert content.count(b"\n") == content.count(b"\r\n"), name

        stats = read_csv(prefix + "_stats.csv")
        assert [(row["Type"], row["Name"]) for row in stats] == [
            ("GET", '/items, "fast"'), ("GET", "broken"), ("GET", "slow"), ("", "Aggregated")]
        assert sum(int(row["Request Count"]) for row in stats[:-1]) == int(stats[-1]["Request Count"])
        assert float(stats[2]["Min Response Time"]) >= 15  # /delay/20, give or take a timer tick
        failures = read_csv(prefix + "_failures.csv")
        assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == [
            ("GET", "broken", "HTTP 503 Service Unavailable")]
        assert int(failures[0]["Occurrences"]) == int(stats[1]["Failure Count"]) > 0
        exceptions = read_csv(prefix + "_exceptions.csv")
        assert len(exceptions) == 1 and exceptions[0]["Nodes"] == "local"
        assert exceptions[0]["Message"].endswith("report_mix.lua:11: deliberate, with a comma")
        history = read_csv(prefix + "_stats_history.csv")
        assert history and all(row["Name"] == "Aggregated" and row["Type"] == "" for row in history)
        assert history[-1]["Total Request Count"] == stats[-1]["Request Count"]


def test_csv_json_and_console_agree():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "run")
        json_path = os.path.join(directory, "run.json")
        result = run_scenario("report_mix.lua", target, "-u", "3", "-r", "100", "-i", "300", "--threads", "2",
                              "--csv", prefix, "--json-file", json_path)
        assert result.returncode == 1, result.stderr
        console = parse_report(result.stdout)
        with open(json_path) as f:
            summary = json.load(f)
        stats = {(row["Type"], row["Name"]): row for row in read_csv(prefix + "_stats.csv")}
        entries = {(e["method"], e["name"]): e for e in summary["entries"]}
        entries[("", "Aggregated")] = summary["aggregated"]
        console_rows = dict(console.entries)
        console_rows[("", "Aggregated")] = console.total
        assert set(stats) == set(entries) == set(console_rows) | {("", "Aggregated")}

        for key, entry in entries.items():
            row, shown = stats[key], console_rows[key]
            assert int(row["Request Count"]) == entry["num_requests"] == shown["reqs"], key
            assert int(row["Failure Count"]) == entry["num_failures"] == shown["fails"], key
            for column, field, console_column in (("Average Response Time", "avg_ms", "avg"),
                                                  ("Min Response Time", "min_ms", "min"),
                                                  ("Max Response Time", "max_ms", "max"),
                                                  ("Median Response Time", "median_ms", "med")):
                assert row[column] == csv_ms(entry[field]), (key, column)
                assert float(console_ms(entry[field])) == shown[console_column], (key, column)
            assert round(float(row["Requests/s"]), 2) == round(entry["rps"], 2) == shown["rps"], key
            percentiles = [entry["percentiles_ms"][p] for p in PERCENTILE_KEYS]
            assert [row[label] for label in PERCENTILES.split(",")] == [csv_ms(v) for v in percentiles], key
            assert [float(console_ms(v)) for v in percentiles] == console.percentiles[key][:11], key
            assert console.percentiles[key][11] == entry["num_requests"]
            # The histogram holds every request, and every bucket is well formed.
            buckets = entry["histogram"]["buckets"]
            assert sum(count for _, _, count in buckets) == entry["num_requests"], key
            assert all(low <= high for low, high, _ in buckets)
            assert buckets[0][0] <= entry["min_response_time_us"] and buckets[-1][1] >= entry["max_response_time_us"]

        assert summary["failures"] == [{"method": "GET", "name": "broken", "error": "HTTP 503 Service Unavailable",
                                        "occurrences": entries[("GET", "broken")]["num_failures"]}]
        assert console.errors == [(summary["failures"][0]["occurrences"], "GET broken: HTTP 503 Service Unavailable")]
        assert [(e["count"], e["message"]) for e in summary["exceptions"]] == console.exceptions
        run = summary["run"]
        assert run["exit_code"] == 1 and run["stop_reason"] == "Iteration limit reached"
        assert run["command_line"][:2] == ["cicada", "run"] and run["user_classes"] == ["U"]
        assert summary["thresholds"] == [] and summary["thresholds_passed"] is True


def test_json_on_stdout_and_only_summary():
    with start_target() as target:
        result = run_scenario("report_thresholds.lua", target, "-u", "2", "-r", "100", "-t", "3s",
                              "--json", "--only-summary")
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)  # stdout is the JSON document and nothing else
        assert summary["cicada"]["schema"] == 1 and summary["thresholds_passed"] is True
        assert len(summary["thresholds"]) == 6
        # The tables went to stderr, and --only-summary left only the final one.
        report = parse_report(result.stderr)
        assert report.stats_tables == 1
        assert report.total["reqs"] == summary["aggregated"]["num_requests"]
        assert "Thresholds\n" in result.stderr and "FAIL" not in result.stderr
        history = summary["history"]
        assert 2 <= len(history) <= 5 and history[-1]["requests"] == summary["aggregated"]["num_requests"]


def test_json_numbers_are_plain_decimals():
    # The shortest form of 200000.0 is "2e+05": valid JSON, but people and tools expect 200000.
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        scenario = pathlib.Path(directory) / "big.lua"
        scenario.write_text('local cicada = require "cicada"\n'
                            'local U = cicada.user("U")\n'
                            'U:task(function(self) self.client:get("/bytes/200000") end)\n')
        result = run_cicada(["run", scenario, "-H", target.url, "-u", "1", "-i", "2", "--json", "--only-summary"],
                            timeout=30)
        assert result.returncode == 0, result.stderr
        assert '"avg_content_length":200000,' in result.stdout, result.stdout
        assert '"total_content_length":400000,' in result.stdout, result.stdout
        assert "e+" not in result.stdout, result.stdout


def test_thresholds_pass_fail_and_exit_codes():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        junit = os.path.join(directory, "junit.xml")
        passing = run_scenario("report_thresholds.lua", target, "-u", "2", "-r", "100", "-i", "60", "--junit", junit)
        assert passing.returncode == 0, passing.stdout + passing.stderr
        assert passing.stdout.count("PASS     ") == 6, passing.stdout
        suite = ElementTree.parse(junit).getroot().find("testsuite")
        assert (suite.get("tests"), suite.get("failures")) == ("6", "0")

        # The command line replaces the script's p95 and adds a threshold that must fail.
        failing = run_scenario("report_thresholds.lua", target, "-u", "2", "-r", "100", "-i", "60", "--junit", junit,
                               "--threshold", "p95<1ms", "--threshold", "GET slow max < 10ms")
        assert failing.returncode == 3, failing.stderr
        lines = [line for line in failing.stdout.splitlines() if line.startswith(("PASS", "FAIL"))]
        assert len(lines) == 7, failing.stdout
        assert [line.split()[1:4] for line in lines if line.startswith("FAIL")] == [
            ["p95", "<", "1ms"], ["GET", "slow", "max"]], failing.stdout
        assert not any("p95 < 10s" in line for line in lines)
        suite = ElementTree.parse(junit).getroot().find("testsuite")
        assert (suite.get("tests"), suite.get("failures")) == ("7", "2")
        messages = [case.find("failure").get("message") for case in suite.iter("testcase")
                    if case.find("failure") is not None]
        assert any(m.startswith("max was ") and m.endswith("needed GET slow max < 10ms") for m in messages), messages

        # An entry nobody requested fails its threshold: a typo must not pass silently.
        typo = run_scenario("report_thresholds.lua", target, "-i", "10", "--threshold", "GET /sloww p95<10s")
        assert typo.returncode == 3 and "no requests" in typo.stdout


def test_exit_code_precedence():
    with start_target() as target:
        base = ["-u", "1", "-i", "20"]
        assert run_scenario("failures.lua", target, *base, "--threshold", "requests>0").returncode == 1
        assert run_scenario("failures.lua", target, *base, "--threshold", "error_rate<1%").returncode == 3
        # A run whose thresholds tolerate failures passes once failures alone no longer decide.
        tolerant = run_scenario("failures.lua", target, *base, "--threshold", "error_rate<=50%",
                                "--exit-code-on-error", "0")
        assert tolerant.returncode == 0, tolerant.stdout


def test_malformed_thresholds_stop_before_any_traffic():
    with silent_listener() as listener:
        script = run_cicada(["run", SCENARIOS / "report_bad_threshold.lua", "-H", listener.url, "-t", "5s"], timeout=30)
        assert script.returncode == 2, script.stderr
        assert ('report_bad_threshold.lua:5: cicada.thresholds: ["GET / p95"] = "<100 parsecs": p95 is a response '
                "time: give it in ms, s or us (like 100ms), not 'parsecs'") in script.stderr, script.stderr
        option = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", listener.url, "--threshold", "p95 < fast"],
                            timeout=30)
        assert option.returncode == 2
        assert "command line: threshold 'p95 < fast': expected a number after '<', got 'fast'" in option.stderr
        env = dict(os.environ, CICADA_THRESHOLD="p95<1s; error_rate<5")
        variable = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", listener.url], timeout=30, env=env)
        assert variable.returncode == 2 and "CICADA_THRESHOLD: threshold 'error_rate<5'" in variable.stderr
        assert listener.connections == []


def test_abort_on_fail_stops_the_test_early():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        json_path = os.path.join(directory, "run.json")
        started = time.monotonic()
        result = run_scenario("failures.lua", target, "-u", "2", "-r", "100", "-t", "60s", "--print-stats",
                              "--json-file", json_path,
                              "--threshold", "GET /status/500 failures<5 abort_on_fail", "--threshold", "p95<10s")
        took = time.monotonic() - started
        assert result.returncode == 3, result.stderr
        assert took < 15, took
        assert "Threshold 'GET /status/500 failures < 5' failed (abort_on_fail), stopping users" in result.stderr
        with open(json_path) as f:
            summary = json.load(f)
        aborting, other = summary["thresholds"]
        assert aborting["aborted_test"] and not aborting["passed"] and "stopped the test after" in aborting["note"]
        assert other["passed"] and not other["aborted_test"]
        assert summary["run"]["stop_reason"].startswith("Threshold 'GET /status/500 failures < 5' failed")


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def aggregated_requests(stats_path):
    try:
        rows = read_csv(stats_path)
    except FileNotFoundError:
        return 0
    return int(rows[-1]["Request Count"]) if rows and rows[-1]["Name"] == "Aggregated" else 0


def test_ctrl_c_leaves_complete_reports():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "run")
        paths = {name: os.path.join(directory, name) for name in ("report.html", "run.json", "junit.xml")}
        process = subprocess.Popen(
            [cicada_bin(), "run", SCENARIOS / "until_stopped.lua", "-H", target.url, "-u", "3", "-r", "100",
             "-t", "60s", "--csv", prefix, "--csv-full-history", "--html", paths["report.html"],
             "--json-file", paths["run.json"], "--junit", paths["junit.xml"], "--threshold", "p99<30s"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # The CSV files are kept current while the test runs.
            wait_for(lambda: aggregated_requests(prefix + "_stats.csv") > 0, 15, "a rewritten _stats.csv")
            wait_for(lambda: pathlib.Path(prefix + "_stats_history.csv").read_text().count("\n") >= 4, 15,
                     "history rows")
            assert not os.path.exists(paths["report.html"])  # written at the end
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 0, stderr
        assert "Interrupted (SIGINT), stopping users" in stderr

        with open(paths["run.json"]) as f:
            summary = json.load(f)
        total = summary["aggregated"]["num_requests"]
        assert total == parse_report(stdout).total["reqs"] > 0
        assert summary["run"]["stop_reason"] == "Interrupted (SIGINT)"
        stats = read_csv(prefix + "_stats.csv")
        assert stats[-1]["Name"] == "Aggregated" and int(stats[-1]["Request Count"]) == total
        assert {row["Name"] for row in stats} == {"loop", "on_stop", "Aggregated"}
        history = read_csv(prefix + "_stats_history.csv")
        assert {row["Name"] for row in history} >= {"loop", "Aggregated"}  # --csv-full-history
        assert history[-1]["Name"] == "Aggregated" and int(history[-1]["Total Request Count"]) == total
        html = pathlib.Path(paths["report.html"]).read_text()
        assert html.rstrip().endswith("</html>") and "All 1 thresholds passed" in html
        suite = ElementTree.parse(paths["junit.xml"]).getroot().find("testsuite")
        assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
        assert not [name for name in os.listdir(directory) if name.endswith(".tmp")]


def test_unwritable_report_is_a_usage_error():
    with silent_listener() as listener, tempfile.TemporaryDirectory() as directory:
        blocker = os.path.join(directory, "file")
        pathlib.Path(blocker).write_text("not a folder")
        result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", listener.url, "--html",
                             os.path.join(blocker, "report.html")], timeout=30)
        assert result.returncode == 2
        assert "cannot create the folder of the --html report" in result.stderr, result.stderr
        assert listener.connections == []


if __name__ == "__main__":
    run_tests(globals())
