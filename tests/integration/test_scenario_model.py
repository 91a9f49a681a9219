"""Locust's scenario model in Lua, through the real binary: task sets and sequences, tags,
catch_response and custom samples, events, setup/teardown, stop_user/stop_test,
--stop-timeout, options from the script/config file/environment, class selection."""

import os
import re
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests, start_target
from servers import parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def run(scenario, target, *args, timeout=60, env=None, cwd=None):
    return run_cicada(["run", SCENARIOS / scenario, "-H", target.url, *args], timeout=timeout, env=env, cwd=cwd)


def reqs(report, name, method="GET"):
    entry = report.entries.get((method, name))
    return int(entry["reqs"]) if entry else 0


def test_task_sets_and_sequences():
    with start_target() as target:
        result = run("model_tasksets.lua", target, "-u", "3", "-r", "100", "--iterations", "600", "--threads", "2")
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert result.returncode == 0, result.stderr
        # Every task set entered is left once: by interrupt() or, at the end, by the stop. The test
        # stops when the last task ends, which a set's on_start and on_stop are not part of: a
        # user caught in one loses that request (at most one per user).
        starts, stops = reqs(report, "browse on_start"), reqs(report, "browse on_stop")
        assert starts > 10 and abs(starts - stops) <= 3, (starts, stops)
        # Sequences run in order; a user may be cut off mid-sequence only by the last iteration.
        s1, s2, s3 = reqs(report, "step 1", "GET"), reqs(report, "step 2"), reqs(report, "step 3")
        assert s1 >= s2 >= s3 >= s1 - 3 and s3 > 10, (s1, s2, s3)
        # The interrupting task makes no request, so the leaf requests are fewer than the iterations.
        assert reqs(report, "browse items") + s1 + s2 + s3 < 600


def test_tag_filters():
    with start_target() as target:
        def names(*flags):
            result = run("model_tags.lua", target, "-u", "2", "-r", "100", "--iterations", "200", *flags)
            assert result.returncode == 0, result.stdout + result.stderr
            return {name for (_, name) in parse_report(result.stdout).entries}, result.stderr

        only_a, stderr = names("-T", "a")
        assert only_a == {"a", "ab"}, only_a
        assert "User class Other has no task left after the tag filters" in stderr
        assert names("-E", "b")[0] == {"a", "untagged", "c in set", "z"}
        assert names("-T", "a,c", "-E", "b")[0] == {"a", "c in set"}
        assert names("--tags", "c", "--tags", "z")[0] == {"c in set", "z"}
        nothing = run("model_tags.lua", target, "-T", "nope", "-i", "1")
        assert nothing.returncode == 2 and "no task matches the tag filters" in nothing.stderr, nothing.stderr


def test_catch_response_and_custom_samples():
    with start_target() as target:
        result = run("model_catch_response.lua", target, "-u", "2", "-r", "100", "--iterations", "40")
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert result.returncode == 1  # the deliberate failures
        entries = report.entries
        assert entries[("GET", "429 expected")]["reqs"] == 40 and entries[("GET", "429 expected")]["fails"] == 0
        assert entries[("GET", "marked failure")]["fails"] == 40
        assert entries[("GET", "undecided 500")]["fails"] == 40
        assert entries[("GET", "undecided 200")]["fails"] == 0
        assert entries[("CUSTOM", "custom op")]["reqs"] == 40
        assert entries[("CUSTOM", "custom op")]["avg"] == 5.5
        assert entries[("CACHE", "custom miss")]["fails"] == 40
        errors = dict((text, count) for count, text in report.errors)
        assert errors["GET marked failure: wrong content"] == 40
        assert errors["GET undecided 500: HTTP 500 Internal Server Error"] == 40
        assert errors["CACHE custom miss: miss"] == 40
        assert not any("429" in text for text in errors), errors


def test_events_setup_and_teardown():
    with start_target() as target:
        result = run("model_events.lua", target, "-u", "1", "--iterations", "4", "--threads", "1")
        assert result.returncode == 1, result.stderr
        lines = result.stdout.splitlines()
        order = [line for line in lines if re.match(
            r"(init|test_start|spawning_complete|test_stopping|test_stop|teardown|quitting)\b", line)]
        assert order == ["init coordinator", "init thread 0", "test_start 200", "spawning_complete 1",
                         "test_stopping", "test_stop", "teardown token-setup 3", "quitting"], order
        failures = [line for line in lines if line.startswith("request_failure")]
        assert failures == [f"request_failure POST {target.url}/status/503 7 {{\"n\":1}} 503 HTTP 503 Service Unavailable"] * 4, failures
        requests = [line for line in lines if line.startswith("request ")]
        assert requests == ["request POST fail 503 HTTP 503 Service Unavailable"] * 4, requests
        errors = [line for line in lines if line.startswith("user_error")]
        assert len(errors) == 4 and errors[0].endswith("model_events.lua:28: boom"), errors
        # The final report comes after teardown and before quitting.
        report_line = next(i for i, line in enumerate(lines) if line.startswith("Response time percentiles"))
        assert lines.index("teardown token-setup 3") < report_line < lines.index("quitting")
        report = parse_report(result.stdout)
        # Requests made by setup and the test_start listener are not part of the test's statistics.
        assert set(report.entries) == {("POST", "fail")}, report.entries
        assert report.exceptions[0][0] == 4


def test_failed_setup_sends_no_load():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        script = os.path.join(directory, "bad_setup.lua")
        with open(script, "w") as f:
            f.write('local cicada = require "cicada"\n'
                    'cicada.setup(function(ctx) error("database not reachable") end)\n'
                    'local U = cicada.user("U")\nU:task(function(self) self.client:get("/") end)\n')
        result = run_cicada(["run", script, "-H", target.url, "-i", "5"], timeout=30)
        assert result.returncode == 2, result
        assert "cicada.setup() failed: " in result.stderr and "bad_setup.lua:2: database not reachable" in result.stderr
        assert "Ramping" not in result.stderr


def test_stop_user_ends_users_and_then_the_test():
    with start_target() as target:
        result = run("model_control.lua", target, "-u", "5", "-r", "100", "-t", "30s")
        assert result.returncode == 0, result.stderr
        assert "All users have stopped, stopping users" in result.stderr, result.stderr
        assert "Only 2 users can run" in result.stderr
        report = parse_report(result.stdout)
        assert reqs(report, "quitter task") == 2
        assert reqs(report, "quitter on_stop") == 2


def test_stop_test_from_a_user():
    with start_target() as target:
        result = run("model_stop_test.lua", target, "-u", "1", "--threads", "1", "-t", "60s", timeout=30)
        assert result.returncode == 0, result.stderr
        assert "enough requests, stopping users" in result.stderr
        assert reqs(parse_report(result.stdout), "loop") == 20


def test_stop_timeout_lets_running_tasks_finish():
    with start_target() as target:
        cut = run("model_slow.lua", target, "-u", "2", "-r", "100", "-t", "1s", "--threads", "1")
        # The slow requests were cut off at the stop: not in the stats, shown as in flight, and
        # a run in which no request completed is a failure (exit code 1), said in the log.
        assert cut.returncode == 1, cut.stderr
        assert "No request completed: 2 were still waiting for an answer at the stop" in cut.stderr, cut.stderr
        assert "slow" not in {name for (_, name) in parse_report(cut.stdout).entries}
        assert re.search(r"^2\s+GET slow\s+\d+$", cut.stdout, re.M), cut.stdout
        finished = run("model_slow.lua", target, "-u", "2", "-r", "100", "-t", "1s", "--threads", "1",
                       "--stop-timeout", "5s")
        assert finished.returncode == 0, finished.stderr
        report = parse_report(finished.stdout)
        assert reqs(report, "slow") == 2 and report.total["fails"] == 0


def test_options_from_script_config_file_and_environment():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ)
        script = SCENARIOS / "model_options.lua"
        from_script = run_cicada(["run", script, "-H", target.url], timeout=30, cwd=directory, env=env)
        assert from_script.returncode == 0, from_script.stderr
        assert parse_report(from_script.stdout).total["reqs"] == 30
        assert "(3 total users)" in from_script.stderr

        with open(os.path.join(directory, "cicada.conf"), "w") as conf:
            conf.write("# team defaults\niterations = 12\nusers = 2\n")
        from_file = run_cicada(["run", script, "-H", target.url], timeout=30, cwd=directory, env=env)
        assert parse_report(from_file.stdout).total["reqs"] == 12
        assert "(2 total users)" in from_file.stderr

        env["CICADA_ITERATIONS"] = "7"
        env["CICADA_HOST"] = target.url
        from_env = run_cicada(["run", script], timeout=30, cwd=directory, env=env)
        assert from_env.returncode == 0, from_env.stderr
        assert parse_report(from_env.stdout).total["reqs"] == 7

        from_cli = run_cicada(["run", script, "-i", "5", "-u", "1"], timeout=30, cwd=directory, env=env)
        assert parse_report(from_cli.stdout).total["reqs"] == 5
        assert "(1 total users)" in from_cli.stderr


def test_classes_abstract_extends_fixed_count_and_listing():
    with start_target() as target:
        listing = run("model_classes.lua", target, "-l")
        assert listing.returncode == 0
        assert listing.stdout == "Available Users:\n    Admin\n    Reader\n    Spike\n", listing.stdout
        ratio = run("model_classes.lua", target, "--show-task-ratio", "-u", "5")
        assert ratio.returncode == 0, ratio.stderr
        assert "Task ratio per User class" in ratio.stdout and "Total task ratio" in ratio.stdout
        assert re.search(r"75\.0\s+browse", ratio.stdout), ratio.stdout  # 3 of Admin's weight 4
        assert re.search(r"20\.0\s+Admin", ratio.stdout), ratio.stdout   # 1 of 5 users

        result = run("model_classes.lua", target, "-u", "5", "-r", "1000", "-t", "1s")
        assert result.returncode == 0, result.stdout + result.stderr
        assert 'All users spawned: {"Admin": 1, "Reader": 4} (5 total users)' in result.stderr, result.stderr
        names = {name for (_, name) in parse_report(result.stdout).entries}
        assert names == {"base task", "admin task"}, names

        spike = run("model_classes.lua", target, "Spike", "-i", "3")
        assert spike.returncode == 0 and reqs(parse_report(spike.stdout), "spike") == 3
        abstract = run("model_classes.lua", target, "Base", "-i", "1")
        assert abstract.returncode == 2 and "unknown user class 'Base'" in abstract.stderr


def test_tasks_as_tables():
    with start_target() as target:
        ratio = run("model_task_table.lua", target, "--show-task-ratio")
        assert ratio.returncode == 0, ratio.stderr
        assert re.search(r"75\.0\s+view", ratio.stdout) and re.search(r"25\.0\s+buy", ratio.stdout), ratio.stdout
        assert re.search(r"50\.0\s+first", ratio.stdout) and re.search(r"50\.0\s+second", ratio.stdout)
        result = run("model_task_table.lua", target, "Weighted", "-u", "2", "-i", "4000")
        report = parse_report(result.stdout)
        assert 0.72 <= reqs(report, "view") / 4000 <= 0.78


def test_reset_stats_forgets_the_ramp_but_not_exceptions():
    with start_target() as target:
        plain = run("model_reset.lua", target, "-u", "3", "-r", "2", "-t", "2.5s", "--threads", "1")
        report = parse_report(plain.stdout)
        assert reqs(report, "ramp marker", "CUSTOM") == 3
        assert "reset_stats fired" not in plain.stdout

        reset = run("model_reset.lua", target, "-u", "3", "-r", "2", "-t", "2.5s", "--threads", "1", "--reset-stats")
        assert "Resetting stats" in reset.stderr
        assert "reset_stats fired" in reset.stdout
        report = parse_report(reset.stdout)
        assert reqs(report, "ramp marker", "CUSTOM") == 0
        assert reqs(report, "steady") > 5
        assert report.exceptions and report.exceptions[0][0] == 3, report.exceptions


def test_pacing_wait_times():
    with start_target() as target:
        result = run("model_pacing.lua", target, "-u", "2", "-r", "100", "-t", "2s", "--threads", "1")
        assert result.returncode == 0, result.stderr
        report = parse_report(result.stdout)
        # One task every 0.25 s and 8 per second: ~8 and ~16 in two seconds.
        assert 6 <= reqs(report, "paced") <= 10, reqs(report, "paced")
        assert 13 <= reqs(report, "steady") <= 18, reqs(report, "steady")


if __name__ == "__main__":
    run_tests(globals())
