"""Every example in examples/ runs against the built-in target for a few seconds, and does
what its comments say."""

import json
import os
import pathlib
import re
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests, start_target
from servers import parse_report

EXAMPLES = REPO_ROOT / "examples"


def run(example, target, *args, env=None, timeout=60):
    return run_cicada(["run", EXAMPLES / example, "-H", target.url, *args], timeout=timeout, env=env)


def names(report):
    return {name for (_, name) in report.entries}


def test_quickstart():
    with start_target() as target:
        result = run("quickstart.lua", target, "-u", "5", "-r", "50", "-t", "2s")
        assert result.returncode == 0, result.stdout + result.stderr
        report = parse_report(result.stdout)
        assert names(report) == {"/", "/json"} and report.exceptions == []


def test_shop():
    with start_target() as target:
        result = run("shop.lua", target, "-u", "8", "-r", "50", "-t", "3s")
        assert result.returncode == 1, result.stderr  # /items/0 is a deliberate 404
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert names(report) == {"/login", "/items", "/items/[id]", "/health"}
        assert report.entries[("POST", "/login")]["reqs"] == 6  # 3:1 of 8 users are shoppers
        assert all(text == "GET /items/[id]: HTTP 404 Not Found" for _, text in report.errors), report.errors


def test_key_validation_uses_its_own_options():
    with start_target() as target:
        result = run("key_validation.lua", target, "-t", "3s")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Ramping to 100 users at a rate of 10.00 per second" in result.stderr
        report = parse_report(result.stdout)
        assert names(report) == {"/api/validate-key"}
        assert report.total["reqs"] > 100 and report.total["fails"] == 0


def test_movies_prints_failed_requests():
    with start_target() as target:
        # between(5, 9): in 4 s each user runs its first task and starts waiting.
        result = run("movies.lua", target, "-u", "60", "-r", "60", "-t", "4s", "--threads", "1")
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert names(report) <= {"/status", "/api/id/[id]", "/api/title/[title]/[year]"}
        assert 55 <= report.total["reqs"] <= 60 * 2
        for _, text in report.errors:
            assert text == "GET /api/title/[title]/[year]: HTTP 404 Not Found", text
        failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
        assert len(failed) == sum(count for count, _ in report.errors)
        for line in failed:
            assert re.fullmatch(rf"FAILED GET {re.escape(target.url)}/api/title/Metropolis/1850 -> HTTP 404 Not Found",
                                line), line
        if failed:
            assert re.search(r"  header X-Viewer: \d+", result.stdout)
            assert '  answer {"error":' in result.stdout


def test_monitoring_levels():
    with start_target() as target:
        light = run("monitoring.lua", target, "-t", "2s", "-r", "20", env=dict(os.environ, LEVEL="light"))
        assert light.returncode == 0, light.stdout + light.stderr
        assert "Ramping to 10 users" in light.stderr  # the light level's users, the command line's rate

        result = run("monitoring.lua", target, "-u", "30", "-r", "100", "-t", "3s", env=dict(os.environ, LEVEL="smoke"))
        assert result.returncode == 0, result.stdout + result.stderr
        report = parse_report(result.stdout)
        assert names(report) <= {"/health/", "/system/metrics", "/analysis/", "/lmcache/status", "/optimize/run"}
        counts = {name: int(entry["reqs"]) for (_, name), entry in report.entries.items()}
        # Weights 5 and 2 over ~150 tasks: the order cannot come out reversed by chance.
        assert counts.get("/health/", 0) > counts.get("/lmcache/status", 0), counts
        bad = run("monitoring.lua", target, env=dict(os.environ, LEVEL="extreme"))
        assert bad.returncode == 2 and "LEVEL must be one of smoke, light, medium, heavy, stress" in bad.stderr


def test_api_key_proxy_scenarios():
    with start_target() as target:
        normal = run("api_key_proxy.lua", target, "-u", "4", "-r", "50", "-t", "3s", "-T", "normal_load")
        assert normal.returncode == 0, normal.stdout + normal.stderr
        report = parse_report(normal.stdout)
        # Every 5th request per connection is a 429; recorded as successes, there are no failures.
        assert names(report) == {"chat"} and report.total["reqs"] >= 20 and report.total["fails"] == 0

        high = run("api_key_proxy.lua", target, "-u", "4", "-r", "50", "-i", "40", "-T", "high_load")
        assert high.returncode == 0, high.stderr
        assert parse_report(high.stdout).entries[("POST", "embeddings burst")]["reqs"] == 200

        # One user, one connection: its 5th and 10th proxied calls are rate limited (successes).
        failing = run("api_key_proxy.lua", target, "-u", "1", "--threads", "1", "-i", "10", "-T", "failure_scenario")
        assert failing.returncode == 1
        report = parse_report(failing.stdout)
        assert report.entries[("POST", "upstream down")]["reqs"] == 10
        assert report.entries[("POST", "upstream down")]["fails"] == 8
        assert report.entries[("GET", "no key")]["fails"] == 0
        errors = {text for _, text in report.errors}
        assert errors == {"POST upstream down: upstream answered 502"}, errors


def test_jobs_classes():
    with start_target() as target:
        result = run("jobs.lua", target, "-u", "11", "-r", "100", "-t", "3s")
        assert result.returncode == 0, result.stdout + result.stderr
        assert 'All users spawned: {"RegularUser": 10, "AdminUser": 1} (11 total users)' in result.stderr
        report = parse_report(result.stdout)
        assert "/api/jobs" in names(report) and report.exceptions == []
        spike = run("jobs.lua", target, "SpikeUser", "-u", "20", "-r", "100", "-i", "500")
        assert spike.returncode == 0, spike.stderr
        report = parse_report(spike.stdout)
        assert names(report) == {"/api/jobs"} and report.total["reqs"] == 500


def run_scaled(example, target, time_scale, *args):
    """Runs a load-shape example with its durations shrunk by TIME_SCALE; returns the result and
    the users of each second (from the JSON history)."""
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "run.json"
        result = run(example, target, "--only-summary", "--json-file", path, *args,
                     env=dict(os.environ, TIME_SCALE=str(time_scale)))
        summary = json.loads(path.read_text())
    return result, summary, [point["users"] for point in summary["history"]]


def test_step_load_climbs_ten_users_a_step():
    with start_target() as target:
        result, summary, users = run_scaled("step_load.lua", target, 0.02)  # 1.2 s a step
        assert result.returncode == 0, result.stdout + result.stderr
        for step in (10, 20, 30, 40, 50):
            assert f"Ramping to {step} users at a rate of 10.00 per second" in result.stderr, result.stderr
        # The last step reaches 50 users only about 0.2 s before the shape ends: the log says so,
        # while the once-a-second history may not have a row in that moment.
        assert 'All users spawned: {"Reader": 50} (50 total users)' in result.stderr, result.stderr
        assert users[:-1] == sorted(users[:-1]) and 40 <= max(users) <= 50, users
        assert summary["run"]["stop_reason"] == "The load shape ended"


def test_spike_jumps_from_10_to_100_users_and_back():
    with start_target() as target:
        result, _, users = run_scaled("spike.lua", target, 0.07)  # 2.1 s, 4.2 s (100 users for over 2 s), 2.1 s
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Ramping to 100 users at a rate of 50.00 per second" in result.stderr
        assert 'All users spawned: {"Shopper": 100} (100 total users)' in result.stderr, result.stderr
        assert "Ramping to 10 users at a rate of 50.00 per second" in result.stderr
        assert users[0] == 10 and max(users) == 100 and users[-2] < 100, users


def test_soak_holds_its_users():
    with start_target() as target:
        result, summary, users = run_scaled("soak.lua", target, 0.0002)  # about 3 s
        assert result.returncode == 0, result.stdout + result.stderr
        assert users[:-1] and all(count == 50 for count in users[:-1]), users
        assert summary["thresholds_passed"] and len(summary["thresholds"]) == 2
        report = parse_report(result.stdout)
        assert names(report) == {"/login", "/items", "/health"} and report.entries[("POST", "/login")]["reqs"] == 50


def test_arrival_rate_follows_its_stages():
    with start_target() as target:
        result, summary, _ = run_scaled("arrival_rate.lua", target, 0.01)  # 0.6 s, 3 s, 0.6 s
        assert result.returncode == 0, result.stdout + result.stderr
        # 0 -> 200/s over 0.6 s, 200/s for 3 s, 400/s for 0.6 s: 60 + 600 + 240 iterations.
        assert summary["iterations"]["due"] == 900 and summary["iterations"]["started"] == 900, summary["iterations"]
        assert summary["iterations"]["dropped"] == 0 and summary["thresholds_passed"]


if __name__ == "__main__":
    run_tests(globals())
