"""The closed model's user count over time, through the real binary: load shapes ramping up and
down at their spawn rate (and swapping classes), users stopped mid-task within --stop-timeout,
--iterations-per-user, and Locust's w/W/s/S keys in a terminal (docs/load-models.md)."""

import datetime
import json
import os
import pathlib
import pty
import re
import select
import subprocess
import tempfile
import termios
import time

from harness import REPO_ROOT, cicada_bin, run_cicada, run_tests, start_target
from servers import parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
_LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] \w+: (.*)$")


def run(scenario, target, *args, timeout=60):
    return run_cicada(["run", SCENARIOS / scenario, "-H", target.url, *args], timeout=timeout)


def run_with_json(scenario, target, *args):
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "run.json"
        result = run(scenario, target, "--json-file", path, *args)
        summary = json.loads(path.read_text()) if path.exists() else None
    return result, summary


def log_times(stderr):
    """(seconds since the first log line, message) for every log line."""
    lines = []
    for line in stderr.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            at = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            lines.append((at, match.group(2)))
    start = lines[0][0]
    return [(at - start, message) for at, message in lines]


def time_of(lines, prefix):
    return next(at for at, message in lines if message.startswith(prefix))


def reqs(report, name):
    return sum(int(entry["reqs"]) for (_, n), entry in report.entries.items() if n == name)


def test_shape_ramps_up_then_down_at_its_spawn_rate():
    with start_target() as target:
        result, summary = run_with_json("load_shape_updown.lua", target, "--only-summary")
        assert result.returncode == 0, result.stderr
        lines = log_times(result.stderr)
        messages = [message for _, message in lines]
        assert "Ramping to 6 users at a rate of 100.00 per second" in messages, messages
        assert 'All users spawned: {"U": 6} (6 total users)' in messages, messages
        assert "Ramping to 2 users at a rate of 2.00 per second" in messages, messages
        assert 'Ramped down: {"U": 2} (2 total users)' in messages, messages
        assert "The load shape ended, stopping users" in messages, messages
        # Four users stopped at 2 a second: the first at once, the last 1.5 s later.
        ramp_down = time_of(lines, 'Ramped down') - time_of(lines, "Ramping to 2 users")
        assert 1.3 <= ramp_down <= 2.5, ramp_down
        assert 3.8 <= time_of(lines, "The load shape ended") - time_of(lines, "Ramping to 6 users") <= 5.5, lines
        users = [point["users"] for point in summary["history"]]
        assert max(users) == 6 and users[-1] == 0, users
        peak = users.index(6)
        assert all(a >= b for a, b in zip(users[peak:], users[peak + 1:])), users  # never back up
        assert summary["run"]["load_shape"].endswith("load_shape_updown.lua:5"), summary["run"]
        assert summary["run"]["stop_reason"] == "The load shape ended"


def test_users_stopped_by_a_ramp_down_finish_their_task_within_the_stop_timeout():
    with start_target() as target:
        finished = run("load_ramp_down_slow_task.lua", target, "--stop-timeout", "5s", "--threads", "1")
        assert finished.returncode == 0, finished.stderr
        report = parse_report(finished.stdout)
        # Stopped a second into a 1.5 s request, the users finish it, then run on_stop.
        assert reqs(report, "slow") == 2 and reqs(report, "on_stop") == 2, report.entries
        assert "Ramping to 0 users" in finished.stderr

        cut = run("load_ramp_down_slow_task.lua", target, "--stop-timeout", "200ms", "--threads", "1")
        assert cut.returncode == 0, cut.stderr
        report = parse_report(cut.stdout)
        # 200 ms are not enough: the requests are interrupted (and not recorded); on_stop still runs.
        assert reqs(report, "slow") == 0 and reqs(report, "on_stop") == 2, report.entries


def test_shape_classes_swap_the_users_of_one_class_for_another():
    with start_target() as target:
        result = run("load_shape_classes.lua", target, "--only-summary")
        assert result.returncode == 0, result.stderr
        assert 'All users spawned: {"A": 4, "B": 0} (4 total users)' in result.stderr, result.stderr
        assert 'All users spawned: {"A": 0, "B": 4} (4 total users)' in result.stderr, result.stderr
        report = parse_report(result.stdout)
        assert reqs(report, "a") > 0 and reqs(report, "b") > 0, report.entries


def test_a_failing_shape_stops_the_test_with_its_error():
    with start_target() as target:
        result = run("load_shape_broken.lua", target, "--only-summary")
        assert result.returncode == 1, result.stderr  # the shape's error counts as an exception
        assert "The load shape failed, stopping users" in result.stderr
        report = parse_report(result.stdout)
        assert len(report.exceptions) == 1, report.exceptions
        assert "load_shape_broken.lua:5) returned users = many" in report.exceptions[0][1], report.exceptions


def test_iterations_per_user_end_each_user_and_then_the_test():
    with start_target() as target:
        result = run("until_stopped.lua", target, "-u", "4", "-r", "100", "--iterations-per-user", "3",
                     "--threads", "2", "-t", "30s")
        assert result.returncode == 0, result.stderr
        assert "All users have stopped, stopping users" in result.stderr, result.stderr
        report = parse_report(result.stdout)
        assert reqs(report, "loop") == 12 and reqs(report, "on_stop") == 4, report.entries


def test_iterations_per_user_from_the_script_options():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        script = pathlib.Path(directory) / "per_user.lua"
        script.write_text('local cicada = require "cicada"\n'
                          'cicada.options { users = 3, spawn_rate = 100, iterations_per_user = 2 }\n'
                          'local U = cicada.user("U")\n'
                          'U:task(function(self) self.client:get("/", { name = "loop" }) end)\n')
        result = run_cicada(["run", script, "-H", target.url, "-t", "30s"], timeout=60)
        assert result.returncode == 0, result.stderr
        assert reqs(parse_report(result.stdout), "loop") == 6


class Terminal:
    """cicada run with a pseudo-terminal as stdin (stdout and stderr stay pipes)."""

    def __init__(self, args):
        self.master, self.slave = pty.openpty()
        self.mode_before = termios.tcgetattr(self.slave)
        self.process = subprocess.Popen([cicada_bin(), *map(str, args)], stdin=self.slave, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, cwd=REPO_ROOT)
        self.stderr = b""

    def wait_for(self, pattern, timeout=15):
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.stderr):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no {pattern!r} on stderr within {timeout} s:\n{self.stderr.decode()}"
            readable, _, _ = select.select([self.process.stderr], [], [], min(remaining, 0.2))
            if readable:
                chunk = os.read(self.process.stderr.fileno(), 65536)
                assert chunk or re.search(pattern, self.stderr), f"cicada exited:\n{self.stderr.decode()}"
                self.stderr += chunk

    def press(self, keys):
        os.write(self.master, keys)

    def finish(self, timeout=30):
        stdout, rest = self.process.communicate(timeout=timeout)
        self.stderr += rest
        return stdout.decode(), self.stderr.decode()

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)
        os.close(self.master)
        os.close(self.slave)


def test_keys_change_the_user_count_and_the_terminal_is_restored():
    with start_target() as target:
        terminal = Terminal(["run", SCENARIOS / "until_stopped.lua", "-H", target.url, "-u", "2", "-r", "100",
                             "-t", "30s", "--only-summary"])
        try:
            terminal.wait_for(rb"All users spawned: \{\"U\": 2\}")
            mode = termios.tcgetattr(terminal.slave)
            assert not mode[3] & (termios.ICANON | termios.ECHO), "keys are read without Enter and not echoed"
            terminal.press(b"W")
            terminal.wait_for(rb"Ramping to 12 users at a rate of 100.00 per second")
            terminal.wait_for(rb"\(12 total users\)")
            terminal.press(b"w")
            terminal.wait_for(rb"\(13 total users\)")
            terminal.press(b"S")
            terminal.wait_for(rb"Ramped down: \{\"U\": 3\} \(3 total users\)")
            terminal.press(b"s")
            terminal.wait_for(rb"\(2 total users\)")
            # Raw mode turns Ctrl-C into a byte: it stops the test like SIGINT, with the report.
            terminal.press(b"\x03")
            stdout, stderr = terminal.finish()
            assert terminal.process.returncode == 0, stderr
            assert "Interrupted (SIGINT), stopping users" in stderr, stderr
            report = parse_report(stdout)
            assert reqs(report, "on_stop") == 13, report.entries  # every user ever started ran on_stop
            assert termios.tcgetattr(terminal.slave) == terminal.mode_before
        finally:
            terminal.close()


def test_keys_are_ignored_without_a_terminal():
    with start_target() as target:
        result = run_cicada(["run", SCENARIOS / "until_stopped.lua", "-H", target.url, "-u", "1", "-t", "1s"],
                            input="WWWW", timeout=30)
        assert result.returncode == 0, result.stderr
        assert "Ramping to 11 users" not in result.stderr
        assert 'All users spawned: {"U": 1} (1 total users)' in result.stderr


if __name__ == "__main__":
    run_tests(globals())
