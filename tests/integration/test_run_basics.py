"""`cicada run` against the built-in target: exact counts, weights, failures, exceptions,
the console report's layout, threads, IPv6 and the request API."""

import re
import resource
import subprocess

from harness import REPO_ROOT, run_cicada, run_tests, start_target
from servers import STATS_HEADER, parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def run(scenario, target, *args, timeout=60):
    return run_cicada(["run", SCENARIOS / scenario, "-H", target.url, *args], timeout=timeout)


def test_iterations_give_exact_request_counts():
    with start_target() as target:
        for threads in ("1", "2"):
            result = run("one_get.lua", target, "-u", "7", "-r", "100", "--iterations", "1234", "--threads", threads)
            assert result.returncode == 0, result.stdout + result.stderr
            report = parse_report(result.stdout)
            assert report.total["reqs"] == 1234, report.total
            assert report.entries[("GET", "/")]["reqs"] == 1234
            assert report.total["fails"] == 0
            assert "Iteration limit reached" in result.stderr


def test_class_weights_and_two_requests_per_iteration():
    with start_target() as target:
        result = run("two_requests.lua", target, "-u", "8", "-r", "1000", "--iterations", "400", "--threads", "2")
        assert result.returncode == 0, result.stderr
        report = parse_report(result.stdout)
        assert report.total["reqs"] == 800, report.total
        a = report.entries[("GET", "A first")]["reqs"]
        b = report.entries[("GET", "B first")]["reqs"]
        assert a == report.entries[("GET", "A second")]["reqs"]
        assert a + b == 400
        # 6 A users and 2 B users share the iterations; each A user is a quarter of the work.
        assert 'All users spawned: {"A": 6, "B": 2} (8 total users)' in result.stderr, result.stderr
        assert 250 <= a <= 350, (a, b)


def test_task_weights_within_tolerance():
    with start_target() as target:
        result = run("weights.lua", target, "-u", "4", "-r", "100", "--iterations", "8000")
        assert result.returncode == 0, result.stderr
        report = parse_report(result.stdout)
        heavy = report.entries[("GET", "heavy")]["reqs"]
        light = report.entries[("GET", "light")]["reqs"]
        assert heavy + light == 8000
        share = heavy / 8000
        assert 0.72 <= share <= 0.78, share  # expected 0.75; 0.03 is > 5 standard deviations


def test_server_errors_are_failures_and_set_the_exit_code():
    with start_target() as target:
        result = run("failures.lua", target, "-u", "2", "-r", "100", "--iterations", "50")
        assert result.returncode == 1, result.stderr
        report = parse_report(result.stdout)
        assert report.entries[("GET", "/status/500")]["reqs"] == 50
        assert report.entries[("GET", "/status/500")]["fails"] == 50
        assert report.entries[("GET", "/json")]["fails"] == 0
        assert report.total["fails"] == 50
        assert report.errors == [(50, "GET /status/500: HTTP 500 Internal Server Error")], report.errors
        assert report.exceptions == []

        quiet = run("failures.lua", target, "-i", "5", "--exit-code-on-error", "0")
        assert quiet.returncode == 0, quiet.stderr


def test_task_errors_are_exceptions_and_users_go_on():
    with start_target() as target:
        result = run("exceptions.lua", target, "-u", "1", "--iterations", "40", "--threads", "1")
        assert result.returncode == 1, result.stderr
        report = parse_report(result.stdout)
        assert report.total["reqs"] == 40  # every iteration ran, errors or not
        assert report.total["fails"] == 0
        assert len(report.exceptions) == 1, report.exceptions
        count, message = report.exceptions[0]
        assert count == 20
        assert re.fullmatch(r".*exceptions\.lua:9: deliberate failure in task", message), message
        assert "stack traceback:" in result.stdout


def test_console_report_layout():
    with start_target() as target:
        # Paced users keep req/s below 10000, which is as wide as Locust's column allows.
        result = run("until_stopped.lua", target, "-u", "2", "-r", "100", "-t", "3s")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        stats_headers = [line for line in lines if line.startswith("Type     Name") and "# fails" in line]
        assert stats_headers and all(line == STATS_HEADER for line in stats_headers), stats_headers
        assert len(stats_headers) >= 2, "a periodic table during the run plus the final one"
        start = max(i for i, line in enumerate(lines) if line == STATS_HEADER)
        block = lines[start:lines.index("", start)]
        assert len({len(line) for line in block}) == 1, "every line of the stats table has the same width"
        assert block[1] == "--------|" + "-" * 76 + "|-------|-------------|-------|-------|-------|-------|--------|-----------"
        assert "Response time percentiles (approximated)" in lines
        p = lines.index("Response time percentiles (approximated)")
        assert lines[p + 1].split() == ["Type", "Name", "50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%",
                                        "99.9%", "99.99%", "100%", "#", "reqs"]
        report = parse_report(result.stdout)
        # The table printed during the run shows the rate of the seconds just closed, not a
        # second late: at 2 s it already matches the run's overall rate.
        first_periodic = next(line for line in lines if line.lstrip().startswith("Aggregated"))
        current_rps = float(first_periodic.split("|")[2].split()[0])
        assert 0.7 * report.total["rps"] <= current_rps <= 1.3 * report.total["rps"], (current_rps, report.total)
        # Loopback requests take well under 10 ms: shown with two decimals, not rounded to 0.
        assert re.fullmatch(r"\d\.\d\d", f"{report.total['med']:.2f}")
        med_text = block[-1].split("|")[1].split()[3]
        assert re.fullmatch(r"\d+\.\d\d", med_text), med_text
        assert report.total["reqs"] > 100
        assert 0 < report.total["rps"] < 10000
        # The percentiles are ordered and bounded by the max.
        values = report.percentiles[("", "Aggregated")]
        assert values[:11] == sorted(values[:11]), values
        assert values[10] == report.total["max"]


def test_ramp_up_follows_the_spawn_rate():
    with start_target() as target:
        result = run("until_stopped.lua", target, "-u", "6", "-r", "4", "-t", "2.5s")
        assert result.returncode == 0, result.stderr
        assert "Ramping to 6 users at a rate of 4.00 per second" in result.stderr
        assert 'All users spawned: {"U": 6} (6 total users)' in result.stderr
        stamps = re.findall(r"\[\d+-\d+-\d+ (\d+):(\d+):(\d+),(\d+)\] INFO: (Ramping|All users)", result.stderr)
        seconds = [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000 for h, m, s, ms, _ in stamps]
        ramp = seconds[1] - seconds[0]
        assert 1.0 <= ramp <= 1.8, ramp  # users at 0, .25, .5, .75, 1.0, 1.25 s
        report = parse_report(result.stdout)
        assert report.entries[("GET", "on_stop")]["reqs"] == 6


def test_request_options_and_response_fields():
    with start_target() as target:
        result = run("api_surface.lua", target, "-u", "2", "-r", "100", "--iterations", "10", timeout=60)
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert report.entries[("POST", "echo")]["reqs"] == 10
        assert report.entries[("PUT", "echo")]["reqs"] == 10
        assert report.entries[("GET", "/delay/300")]["fails"] == 10
        assert (10, "GET /delay/300: timeout") in report.errors
        assert result.returncode == 1  # the timeouts are failures


def test_ipv6_and_locust_style_flags():
    with start_target(host="::1") as target:
        result = run_cicada(["-f", SCENARIOS / "one_get.lua", "--headless", "-H", target.url, "-u", "2",
                             "--iterations", "20"], timeout=30)
        assert result.returncode == 0, result.stderr
        assert parse_report(result.stdout).total["reqs"] == 20


def test_open_file_soft_limit_is_raised_for_many_users():
    # Started with the usual soft limit of 1024: 1500 users only fit if cicada raises it.
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert hard >= 4096, f"this machine's hard open-file limit is only {hard}"

    def low_soft_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))

    with start_target() as target:
        from harness import cicada_bin
        result = subprocess.run([cicada_bin(), "run", SCENARIOS / "one_get.lua", "-H", target.url, "-u", "1500",
                                 "-r", "100000", "--iterations", "3000"], capture_output=True, text=True, timeout=120,
                                preexec_fn=low_soft_limit, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        report = parse_report(result.stdout)
        assert report.total["reqs"] == 3000 and report.total["fails"] == 0


def test_connection_refused_is_a_failure_not_a_crash():
    with start_target() as target:
        url = target.url
    # The target is gone: every request fails with a clear reason and the run still ends well.
    result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", url, "-u", "3", "--iterations", "30"], timeout=30)
    assert result.returncode == 1, result.stderr
    report = parse_report(result.stdout)
    assert report.total["reqs"] == 30 and report.total["fails"] == 30
    assert report.errors == [(30, "GET /: connect refused")], report.errors


if __name__ == "__main__":
    run_tests(globals())
