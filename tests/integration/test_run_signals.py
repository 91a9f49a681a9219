"""Ctrl-C and SIGTERM mid-run: users stop, on_stop runs, the final report is printed."""

import select
import signal
import subprocess
import time

from harness import REPO_ROOT, cicada_bin, run_tests, start_target
from servers import parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def start_run(target, *args):
    return subprocess.Popen([cicada_bin(), "run", SCENARIOS / "until_stopped.lua", "-H", target.url, *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_first_table(process, timeout=15):
    """Reads stdout until the first periodic stats table has been printed; returns what was read."""
    deadline = time.monotonic() + timeout
    seen = ""
    while "Aggregated" not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no stats table within {timeout}s: {seen!r}"
        readable, _, _ = select.select([process.stdout], [], [], remaining)
        if readable:
            line = process.stdout.readline()
            assert line, "cicada exited early"
            seen += line
    return seen


def stop_with(signum):
    with start_target() as target:
        process = start_run(target, "-u", "4", "-r", "100", "-t", "60s")
        try:
            head = wait_for_first_table(process)
            sent = time.monotonic()
            process.send_signal(signum)
            rest, stderr = process.communicate(timeout=20)
            took = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        return process.returncode, head + rest, stderr, took


def test_sigint_stops_users_and_still_reports():
    code, stdout, stderr, took = stop_with(signal.SIGINT)
    assert code == 0, stderr
    assert took < 5, took
    assert "Interrupted (SIGINT), stopping users" in stderr, stderr
    report = parse_report(stdout)
    assert report.total["reqs"] > 10
    assert report.entries[("GET", "on_stop")]["reqs"] == 4  # every user ran on_stop
    assert "Response time percentiles (approximated)" in stdout


def test_sigterm_too():
    code, stdout, stderr, _ = stop_with(signal.SIGTERM)
    assert code == 0, stderr
    assert "Terminated (SIGTERM)" in stderr
    assert parse_report(stdout).entries[("GET", "on_stop")]["reqs"] == 4


def test_sighup_stops_like_sigterm_with_every_report():
    # A closed terminal or a dropped ssh session used to kill the run with no report.
    code, stdout, stderr, _ = stop_with(signal.SIGHUP)
    assert code == 0, stderr
    assert "Hung up (SIGHUP), stopping users" in stderr, stderr
    report = parse_report(stdout)
    assert report.entries[("GET", "on_stop")]["reqs"] == 4
    assert "Response time percentiles (approximated)" in stdout


def test_second_sigint_exits_at_once():
    with start_target() as target:
        # on_stop is slow (the target delays it), so after the first Ctrl-C users are still stopping.
        script = SCENARIOS / "slow_on_stop.lua"
        process = subprocess.Popen([cicada_bin(), "run", script, "-H", target.url, "-u", "2", "-r", "100"],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_first_table(process)
            process.send_signal(signal.SIGINT)
            time.sleep(0.5)
            assert process.poll() is None, "still running on_stop"
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=5)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        assert process.returncode == 130, stderr
        assert "Second interrupt" in stderr


if __name__ == "__main__":
    run_tests(globals())
