"""The web UI's HTTP API, as a CI script written for Locust's drives it: POST /swarm, poll
/stats/requests, change the users, GET /stop, download the CSV files; bad forms, cross-site and
rebinding requests, basic authentication; Prometheus' /metrics read by Debian's
python3-prometheus-client parser; when the process starts and ends the test by itself."""

import csv
import io
import json
import os
import pty
import signal
import subprocess
import tempfile
import time
import urllib.request

from harness import REPO_ROOT, _read_first_line, cicada_bin, run_cicada, run_tests, start_target
from web_ui import total, web_run

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
LOCUST_STATS_HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
                       "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,"
                       "80%,90%,95%,98%,99%,99.9%,99.99%,100%")


def test_a_ci_script_starts_changes_and_stops_the_test():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        prefix = os.path.join(directory, "run")
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary",
                      "--csv", prefix]) as web:
            ready = web.json("/stats/requests")
            assert ready["state"] == "ready" and ready["user_count"] == 0, ready
            assert total(ready)["name"] == "Aggregated" and total(ready)["method"] is None, ready
            # Nothing runs until asked: the target saw no request.
            assert total(ready)["num_requests"] == 0

            started = web.json("/swarm", [("user_count", "4"), ("spawn_rate", "100"), ("host", target.url)])
            assert started == {"success": True, "message": "Swarming started", "host": target.url}, started
            running = web.wait_for("4 users running with requests",
                                   lambda s: s["state"] == "running" and s["user_count"] == 4
                                   and total(s)["num_requests"] > 50 and len(s["stats"]) == 3)
            names = [(e["method"], e["name"]) for e in running["stats"]]
            assert names == [("GET", "/fail"), ("GET", "/items"), (None, "Aggregated")], names
            # The 2.12 names next to the current ones, as exporters read both.
            for key in ("current_response_time_percentile_50", "current_response_time_percentile_95", "total_rps",
                        "fail_ratio", "current_rps", "current_fail_per_sec", "total_fail_per_sec"):
                assert key in running, key
            assert set(running["current_response_time_percentiles"]) == {
                "response_time_percentile_0.5", "response_time_percentile_0.95"}
            entry = running["stats"][1]
            for key in ("safe_name", "num_requests", "num_failures", "avg_response_time", "min_response_time",
                        "max_response_time", "median_response_time", "ninetieth_response_time",
                        "ninety_ninth_response_time", "current_rps", "current_fail_per_sec", "total_rps",
                        "total_fail_per_sec", "response_time_percentile_0.95", "response_time_percentile_0.99",
                        "avg_content_length", "response_time_percentiles_exact"):
                assert key in entry, key
            assert running["errors"] and running["errors"][0]["name"] == "/fail", running["errors"]
            assert set(running["errors"][0]) == {"method", "name", "error", "occurrences"}

            # Locust's page edits a running test by posting the form again.
            edited = web.json("/swarm", [("user_count", "1"), ("spawn_rate", "100")])
            assert edited["success"], edited
            web.wait_for("1 user", lambda s: s["user_count"] == 1 and s["state"] == "running")

            tasks = web.json("/tasks")
            assert tasks["per_class"]["Web"]["ratio"] == 1, tasks
            ratios = {name: task["ratio"] for name, task in tasks["per_class"]["Web"]["tasks"].items()}
            assert sorted(ratios.values()) == [0.25, 0.75], ratios

            assert web.json("/stop") == {"success": True, "message": "Test stopped"}
            stopped = web.wait_for("the stop", lambda s: s["state"] == "stopped")
            assert stopped["user_count"] == 0 and stopped["stop_reason"] == "Stopped from the web UI", stopped

            status, headers, stats_csv = web.call("/stats/requests/csv")
            assert status == 200 and headers["Content-Type"].startswith("text/csv"), status
            assert "attachment" in headers["Content-Disposition"], headers
            assert stats_csv.splitlines()[0] == LOCUST_STATS_HEADER, stats_csv.splitlines()[0]
            rows = {row["Name"]: row for row in csv.DictReader(io.StringIO(stats_csv))}
            assert int(rows["Aggregated"]["Request Count"]) == total(stopped)["num_requests"], (rows, total(stopped))
            assert web.call("/stats/failures/csv")[2].splitlines()[0] == "Method,Name,Error,Occurrences"
            assert web.call("/exceptions/csv")[2].splitlines()[0] == "Count,Message,Traceback,Nodes"
            assert web.json("/exceptions") == {"exceptions": []}
            assert web.json("/worker-count") == {"worker_count": 0}
            assert any("Ramping to 4 users" in line for line in web.json("/logs")["master"])
            status, headers, report = web.call("/stats/report?download=1")
            assert status == 200 and "<html" in report and "attachment" in headers["Content-Disposition"]
            summary = web.json("/stats/summary.json")
            assert summary["aggregated"]["num_requests"] == total(stopped)["num_requests"], summary["aggregated"]
            history = web.json("/stats/history")
            assert history["points"] and history["next"] == len(history["points"]), history

            # The UI stays up after the test: the page and the numbers stay readable.
            assert web.process.poll() is None
            status, _, page = web.call("/")
            assert status == 200 and "./assets/app.js" in page
        # The files written at the end are what the API served.
        with open(prefix + "_stats.csv", newline="") as written:
            assert written.read() == stats_csv


def test_a_start_after_the_end_runs_a_new_test():
    # Locust's "New test": the same process (and port) runs a second test with fresh numbers.
    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary"]) as web:
            assert web.json("/swarm", [("user_count", "2"), ("spawn_rate", "100"), ("tags", "failing")])["success"]
            first = web.wait_for("failures", lambda s: total(s)["num_failures"] > 20)
            assert web.json("/stop")["success"]
            first = web.wait_for("the stop", lambda s: s["state"] == "stopped")
            second_form = [("user_count", "3"), ("spawn_rate", "100"), ("tags", "items")]
            assert web.json("/swarm", second_form) == {"success": True, "message": "Swarming started", "host": target.url}
            second = web.wait_for("the new test", lambda s: s["state"] == "running" and s["user_count"] == 3
                                  and total(s)["num_requests"] > 20, every=0.3)
            # Fresh statistics: the first test's failing entry is gone.
            assert [e["name"] for e in second["stats"]] == ["/items", "Aggregated"], second["stats"]
            assert total(second)["num_failures"] == 0 and total(first)["num_failures"] > 0
            assert web.process.poll() is None


def test_bad_forms_get_a_400_and_start_nothing():
    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary"]) as web:
            for form, message in [
                ([("spawn_rate", "1")], "user_count is required"),
                ([("user_count", "2")], "spawn_rate is required"),
                ([("user_count", "many"), ("spawn_rate", "1")], "user_count must be"),
                ([("user_count", "-1"), ("spawn_rate", "1")], "user_count must be"),
                ([("user_count", "2"), ("spawn_rate", "0")], "spawn_rate must be"),
                ([("user_count", "2"), ("spawn_rate", "1"), ("run_time", "soon")], "run_time must be"),
                ([("user_count", "2"), ("spawn_rate", "1"), ("user_classes", "Nobody")], "no user class named"),
                ([("user_count", "2"), ("spawn_rate", "1"), ("host", "ftp://x")], "bad host"),
            ]:
                outcome = web.json("/swarm", form, expect=400)
                assert outcome["success"] is False and message in outcome["message"], (form, outcome)
            status, _, body = web.call("/swarm", headers={"Content-Type": "multipart/form-data; boundary=x"},
                                       method="POST")
            assert status == 400 and "urlencoded" in body, (status, body)
            status, _, _ = web.call("/swarm", [("user_count", "1" * 70000), ("spawn_rate", "1")])
            assert status == 413, status
            assert web.call("/swarm")[0] == 405
            assert web.json("/stop", expect=400)["success"] is False  # nothing to stop yet
            after = web.json("/stats/requests")
            assert after["state"] == "ready" and total(after)["num_requests"] == 0, after
            # A good form still starts it.
            assert web.json("/swarm", [("user_count", "1"), ("spawn_rate", "10"), ("run_time", "1s")])["run_time"] == 1
            web.wait_for("the run time", lambda s: s["state"] == "stopped")


def test_tags_from_the_form_choose_the_tasks():
    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary"]) as web:
            refused = web.json("/swarm", [("user_count", "2"), ("spawn_rate", "100"), ("tags", "nothing")], expect=400)
            assert "has one of these tags" in refused["message"], refused
            assert web.json("/swarm", [("user_count", "2"), ("spawn_rate", "100"), ("tags", "items")])["success"]
            running = web.wait_for("requests", lambda s: total(s)["num_requests"] > 100)
            assert [e["name"] for e in running["stats"]] == ["/items", "Aggregated"], running["stats"]
            tasks = web.json("/tasks")["per_class"]["Web"]["tasks"]
            assert [t["ratio"] for t in tasks.values()] == [1], tasks


def test_other_sites_and_rebound_names_are_refused():
    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary"]) as web:
            host = web.url.split("/")[2]
            status, _, body = web.call("/stats/requests", headers={"Host": "evil.example:8089"})
            assert status == 403 and "not this server" in body, (status, body)
            form = [("user_count", "1"), ("spawn_rate", "1")]
            for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
                status, _, body = web.call("/swarm", form, headers=headers)
                assert status == 403 and "another site" in body, (headers, status, body)
            assert web.json("/stats/requests")["state"] == "ready"
            # The page itself posts with its own origin.
            assert web.json("/swarm", form, headers={"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})["success"]
            web.wait_for("the start", lambda s: s["state"] in ("spawning", "running"))
            status, _, _ = web.call("/stop", headers={"Sec-Fetch-Site": "cross-site"})
            assert status == 403 and web.json("/stats/requests")["state"] != "stopped"


def test_basic_authentication():
    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary",
                      "--web-auth", "ops:s3cret"]) as web:
            status, headers, _ = web.call("/stats/requests")
            assert status == 401 and headers["WWW-Authenticate"].startswith("Basic"), status
            status, _, _ = web.call("/", headers={"Authorization": "Basic b3BzOndyb25n"})  # ops:wrong
            assert status == 401
            status, _, body = web.call("/stats/requests", headers={"Authorization": "Basic b3BzOnMzY3JldA=="})
            assert status == 200 and '"state":"ready"' in body, (status, body)


def test_metrics_in_a_headless_run_follow_prometheus_format():
    from prometheus_client.parser import text_string_to_metric_families

    with start_target() as target:
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--headless", "--metrics", "--web-port",
                      "0", "-u", "3", "-r", "100", "-t", "60s", "--only-summary"]) as web:
            web.wait_for("requests", lambda s: s["state"] == "running" and total(s)["num_requests"] > 100)
            status, headers, text = web.call("/metrics")
            assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
            families = {family.name: family for family in text_string_to_metric_families(text)}
            requests = {s.labels["name"]: s.value for s in families["cicada_requests"].samples}
            failures = {s.labels["name"]: s.value for s in families["cicada_request_failures"].samples}
            assert requests["/items"] > 0 and failures["/fail"] == requests["/fail"] > 0, (requests, failures)
            assert families["cicada_requests"].type == "counter"
            histogram = families["cicada_request_duration_seconds"]
            assert histogram.type == "histogram"
            buckets = [s for s in histogram.samples if s.name.endswith("_bucket") and s.labels["name"] == "/items"]
            counts = [s.value for s in buckets]
            assert counts == sorted(counts) and buckets[-1].labels["le"] == "+Inf", buckets
            count = next(s.value for s in histogram.samples if s.name.endswith("_count") and s.labels["name"] == "/items")
            assert counts[-1] == count > 0
            states = {s.labels["state"]: s.value for s in families["cicada_run_state"].samples}
            assert states == {"ready": 0, "spawning": 0, "running": 1, "stopping": 0, "stopped": 0}, states
            assert families["cicada_users"].samples[0].value == 3
            assert "cicada_exceptions" in families and "cicada_iterations_dropped" in families
            web.process.terminate()
            code, _ = web.wait_for_exit()
            assert code == 1, code  # /fail failed: exit code 1, and the process ended with the test


def test_from_a_terminal_without_a_load_the_ui_waits_for_a_start():
    # As `locust -f`: no load, no web option, a terminal: the UI on its default address.
    master, slave = pty.openpty()
    process = subprocess.Popen([cicada_bin(), "run", SCENARIOS / "one_get.lua", "-H", "http://127.0.0.1:9"],
                               stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = _read_first_line(process, time.monotonic() + 30)
        assert line == "Web UI: http://127.0.0.1:8089/", line
        with urllib.request.urlopen("http://127.0.0.1:8089/stats/requests", timeout=10) as response:
            assert json.loads(response.read())["state"] == "ready"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
        assert "before the test started" in stderr.decode(), stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)
        os.close(master)
        os.close(slave)


def test_without_a_load_or_a_terminal_it_asks_for_one():
    result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", "http://127.0.0.1:9"], timeout=30)
    assert result.returncode == 2, result
    assert "no load given" in result.stderr and "--web" in result.stderr, result.stderr


def test_a_load_with_the_ui_starts_at_once_and_autoquit_ends_it():
    with start_target() as target:
        with web_run([SCENARIOS / "one_get.lua", "-H", target.url, "--web-port", "0", "-u", "2", "-r", "100", "-t",
                      "2s", "--autoquit", "1", "--only-summary"]) as web:
            web.wait_for("the start without a form", lambda s: total(s)["num_requests"] > 0)
            code, stderr = web.wait_for_exit()
            assert code == 0, stderr
            assert "--autoquit" in stderr, stderr


if __name__ == "__main__":
    run_tests(globals())
