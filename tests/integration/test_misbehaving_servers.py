"""`cicada run` against a server that misbehaves in every way misbehaving_server.py knows.

Each test runs tests/integration/scenarios/misbehaving_<case>.lua, whose task meets one
misbehaving path and then makes a GET /ok, and asserts on what cicada printed:

- the process ended by itself, with exit code 1 when something failed (0 when all succeeded),
  never a signal, a sanitizer report or a hang (every run has a time limit);
- the report shows exactly the expected failures, with the expected reason;
- the users went on: every GET /ok after a failure succeeded;
- memory stayed bounded: the child's peak RSS (from wait4) is compared with a baseline run
  that only meets well-behaved paths.
"""

import dataclasses
import os
import re
import socket
import subprocess
import threading
import time

from harness import REPO_ROOT, cicada_bin, run_tests
from misbehaving_server import start_misbehaving_server
from servers import parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
RUN_TIMEOUT = 60  # seconds for one cicada run
MIB = 1024  # ru_maxrss is in KiB
# Peak RSS allowed above the baseline run. Bodies kept by the client are bounded by its
# 16 MiB kept-body limit; everything else a misbehaving server sends must not accumulate.
DEFAULT_MEMORY_BOUND_MIB = 32


def _is_sanitizer_build():
    with open(cicada_bin(), "rb") as binary:
        return b"__asan_init" in binary.read()


SANITIZED = _is_sanitizer_build()
# AddressSanitizer keeps freed memory in quarantine (256 MiB by default) and adds shadow memory:
# a small quarantine keeps peak RSS meaningful, and the bounds get room for the shadow.
MEMORY_SLACK = 1.5 if SANITIZED else 1.0


@dataclasses.dataclass
class Run:
    returncode: int  # negative: the signal that ended the process
    stdout: str
    stderr: str
    peak_rss_kib: int
    seconds: float

    def describe(self):
        return (f"exit code {self.returncode} after {self.seconds:.1f}s, peak RSS {self.peak_rss_kib // MIB} MiB\n"
                f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")


def run_case(case, server, users=2, iterations=4, timeout=RUN_TIMEOUT, extra_args=()):
    """Runs misbehaving_<case>.lua against `server`; returns a Run with the child's peak RSS.

    The child is reaped with os.wait4 (subprocess would discard its resource usage); output is
    read by threads so that a chatty child never blocks; a child still running after `timeout`
    seconds is killed and the test fails.
    """
    command = [cicada_bin(), "run", SCENARIOS / f"misbehaving_{case}.lua", "-H", server.url,
               "-u", str(users), "-r", "100", "--iterations", str(iterations), *extra_args]
    env = dict(os.environ)
    if SANITIZED:
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=16"]))
    started = time.monotonic()
    process = subprocess.Popen([str(part) for part in command], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               cwd=REPO_ROOT, env=env)
    output = {}

    def drain(name, stream):
        output[name] = stream.read().decode("utf-8", "replace")

    readers = [threading.Thread(target=drain, args=(name, stream), daemon=True)
               for name, stream in (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    outcome = {}
    waiter = threading.Thread(target=lambda: outcome.update(result=os.wait4(process.pid, 0)), daemon=True)
    waiter.start()
    waiter.join(timeout)
    hung = waiter.is_alive()
    if hung:
        process.kill()
        waiter.join(10)
    _, status, usage = outcome["result"]
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by subprocess
    for reader in readers:
        reader.join(10)
    process.stdout.close()
    process.stderr.close()
    run = Run(process.returncode, output.get("stdout", ""), output.get("stderr", ""), usage.ru_maxrss,
              time.monotonic() - started)
    assert not hung, f"cicada was still running after {timeout}s: killed\n" + run.describe()
    return run


_baseline_kib = {}


def baseline_rss_kib(users):
    """Peak RSS of a run that only meets well-behaved paths, with as many users."""
    if users not in _baseline_kib:
        with start_misbehaving_server() as server:
            run = run_case("baseline", server, users=users, iterations=4)
        assert_ended_normally(run, 0)
        _baseline_kib[users] = run.peak_rss_kib
    return _baseline_kib[users]


# --- assertions -----------------------------------------------------------------------------

def assert_ended_normally(run, expected_code):
    assert run.returncode == expected_code, run.describe()
    for sign in ("AddressSanitizer", "runtime error:", "LeakSanitizer", "Segmentation fault", "core dumped"):
        assert sign not in run.stderr, run.describe()


def assert_memory_bounded(run, users, bound_mib=DEFAULT_MEMORY_BOUND_MIB):
    grown_mib = (run.peak_rss_kib - baseline_rss_kib(users)) / MIB
    allowed = bound_mib * MEMORY_SLACK
    assert grown_mib < allowed, (f"peak RSS {grown_mib:.1f} MiB above the baseline, allowed {allowed:.0f} MiB\n"
                                 + run.describe())


def assert_users_went_on(report, iterations, run):
    ok = report.entries.get(("GET", "/ok"))
    assert ok is not None, "no GET /ok in the report\n" + run.describe()
    assert ok["reqs"] == iterations and ok["fails"] == 0, (ok, run.describe())


def assert_failed(case, path, reason, users=2, iterations=4, method="GET", memory_bound_mib=DEFAULT_MEMORY_BOUND_MIB,
                  server_check=None):
    """Runs the case; every request to `path` failed with `reason` (a string, or a function
    that says whether an error text is right), and nothing else failed."""
    with start_misbehaving_server() as server:
        run = run_case(case, server, users=users, iterations=iterations)
    assert_ended_normally(run, 1)
    report = parse_report(run.stdout)
    assert report.exceptions == [], run.describe()
    entry = report.entries.get((method, path))
    assert entry is not None, f"no {method} {path} in the report\n" + run.describe()
    assert entry["reqs"] == iterations and entry["fails"] == iterations, (entry, run.describe())
    assert len(report.errors) == 1, run.describe()
    count, text = report.errors[0]
    prefix = f"{method} {path}: "
    assert count == iterations and text.startswith(prefix), run.describe()
    error = text[len(prefix):]
    if callable(reason):
        assert reason(error), f"unexpected error {error!r}\n" + run.describe()
    else:
        assert error == reason, f"expected {reason!r}, got {error!r}\n" + run.describe()
    assert_users_went_on(report, iterations, run)
    assert report.total["fails"] == iterations, run.describe()
    assert_memory_bounded(run, users, memory_bound_mib)
    if server_check:
        server_check(server)  # what the server saw, once the report is known to be right
    return run


def assert_succeeded(case, users=2, iterations=4, memory_bound_mib=DEFAULT_MEMORY_BOUND_MIB):
    """Runs the case; nothing failed and no check in the scenario raised. Returns (run, report, server)."""
    with start_misbehaving_server() as server:
        run = run_case(case, server, users=users, iterations=iterations)
    assert_ended_normally(run, 0)
    report = parse_report(run.stdout)
    assert report.exceptions == [], run.describe()
    assert report.errors == [] and report.total["fails"] == 0, run.describe()
    assert_users_went_on(report, iterations, run)
    assert_memory_bounded(run, users, memory_bound_mib)
    return run, report, server


def is_bad_response(error):
    """`bad response (<llhttp's reason>)` with a reason."""
    match = re.fullmatch(r"bad response \((.+)\)", error)
    return bool(match and match.group(1).strip())


# --- no response, or not HTTP ---------------------------------------------------------------

def test_connection_closed_without_response():
    def retried_at_most_once(server):
        # A GET that finds its kept-alive connection closed is sent once more: between one and
        # two requests per iteration reach the server, never more.
        assert 4 <= server.requests("/close-without-response") <= 8, server.requests("/close-without-response")
    assert_failed("close_without_response", "/close-without-response", "closed", server_check=retried_at_most_once)


def test_non_http_garbage():
    assert_failed("garbage", "/garbage", is_bad_response)


def test_bad_status_line():
    assert_failed("bad_status_line", "/bad-status-line", is_bad_response)


def test_http09_answer():
    assert_failed("http09", "/http09", is_bad_response)


# --- broken framing -------------------------------------------------------------------------

def test_body_shorter_than_content_length():
    assert_failed("short_body", "/short-body", "closed")


def test_reset_in_the_middle_of_the_body():
    assert_failed("reset_mid_body", "/reset-mid-body", "reset")


def test_malformed_chunk_size():
    assert_failed("bad_chunk_size", "/bad-chunk-size", is_bad_response)


def test_two_different_content_lengths():
    assert_failed("two_content_lengths", "/two-content-lengths", is_bad_response)


def test_content_length_with_transfer_encoding_chunked():
    assert_failed("length_and_chunked", "/length-and-chunked", is_bad_response)


def test_close_delimited_body_arrives_whole():
    assert_succeeded("close_delimited")


def test_keep_alive_announced_then_closed():
    iterations = 6
    with start_misbehaving_server() as server:
        run = run_case("keep_alive_then_close", server, iterations=iterations)
        closing, following = server.requests("/keep-alive-then-close"), server.requests("/ok")
        connections = server.connections
    assert_ended_normally(run, 0)
    report = parse_report(run.stdout)
    assert report.exceptions == [] and report.errors == [], run.describe()
    assert report.total["reqs"] == 2 * iterations, run.describe()
    assert_users_went_on(report, iterations, run)
    # Never lost, never double-counted: the server saw each request exactly once, the one sent
    # on the closed connection was retried on a new one (the server closed each connection
    # after /keep-alive-then-close, so each GET /ok needed a new connection).
    assert (closing, following) == (iterations, iterations), (closing, following)
    assert iterations + 1 <= connections <= iterations + 2, connections
    assert_memory_bounded(run, 2)


# --- too much -------------------------------------------------------------------------------

def test_two_megabytes_of_headers():
    assert_failed("huge_headers", "/huge-headers", "headers too large")


def test_64_megabyte_body_is_too_large_to_keep():
    # One user, so that the bound says "at most the kept-body limit (16 MiB) was kept, with
    # room for a string's growth", far from the 64 MiB the server sent.
    assert_failed("huge_body", "/huge-body", "body too large", users=1, iterations=2, memory_bound_mib=48)


def test_64_megabyte_body_discarded_is_a_success():
    run, report, _ = assert_succeeded("huge_body_discarded", users=1, iterations=2, memory_bound_mib=16)
    assert report.entries[("GET", "/huge-body")]["reqs"] == 2, run.describe()


def test_endless_chunked_body():
    # The server sends up to 128 MiB before giving up (misbehaving_server.ENDLESS_BYTE_LIMIT):
    # the kept-body limit must end it long before.
    assert_failed("endless_chunked", "/endless-chunked", "body too large", users=1, iterations=2,
                  memory_bound_mib=48)


def test_endless_bodies_of_many_users_stay_within_the_body_budget():
    # Seen: an endless chunked body cost ~24 MB per user until the 16 MiB kept-body limit (20
    # users: 475 MB RSS). The run-wide budget (here 32 MiB) caps what all bodies hold together:
    # past it, bodies are counted and discarded. Each request ends at its 3 s deadline.
    users = 20
    with start_misbehaving_server() as server:
        run = run_case("endless_chunked_budget", server, users=users, iterations=users,
                       extra_args=("--max-body-memory", "32"))
    assert_ended_normally(run, 1)
    assert "Response bodies held in memory reached the budget of 32 MiB (--max-body-memory)" in run.stderr, \
        run.describe()
    report = parse_report(run.stdout)
    entry = report.entries[("GET", "/endless-chunked")]
    assert entry["reqs"] == users, run.describe()
    # The budget, the free first 256 KiB of each body, and room for the rest; without the
    # budget, 20 bodies of 16 MiB each would take well over 300 MiB.
    assert_memory_bounded(run, users, bound_mib=32 + users // 4 + 48)
    assert re.search(r"^DISCARDED$", run.stdout, re.M), run.describe()


def test_endless_slow_chunked_body_hits_the_deadline():
    run = assert_failed("endless_chunked_slow", "/endless-chunked-slow", "timeout", iterations=2)
    assert run.seconds < 1.5 + 10, run.describe()


# --- too slow -------------------------------------------------------------------------------

def test_one_byte_every_500ms_hits_the_deadline():
    run = assert_failed("slow_drip", "/slow-drip", "timeout", iterations=2)
    assert run.seconds < 2 + 10, run.describe()


def test_one_byte_every_500ms_hits_the_idle_timeout():
    run = assert_failed("slow_drip_idle", "/slow-drip", "idle timeout", iterations=2)
    assert run.seconds < 8, run.describe()


def test_never_answering_hits_the_deadline():
    run = assert_failed("never_respond", "/never-respond", "timeout", iterations=2)
    assert run.seconds < 1 + 10, run.describe()


def test_never_answering_hits_the_first_byte_timeout():
    run = assert_failed("never_respond_first_byte", "/never-respond", "first byte timeout", iterations=2)
    assert run.seconds < 8, run.describe()


# --- early and interim responses ------------------------------------------------------------

def test_early_response_before_the_request_body_is_read():
    # Each user holds its 8 MiB request body in Lua and in the request buffer.
    assert_failed("early_response", "/early-response", "HTTP 413 Content Too Large", method="POST",
                  memory_bound_mib=64)


def test_large_post_on_a_connection_the_server_closed_is_never_a_signal():
    # Seen: exit 141 (SIGPIPE) with every report lost. Each POST either went out again on a new
    # connection (the server had closed before reading any of it) or is a failure with a reason;
    # the server saw exactly the POSTs that the report counts as successes.
    iterations = 6
    with start_misbehaving_server() as server:
        run = run_case("closed_then_post", server, iterations=iterations)
        accepted = server.requests("/accept")
    assert run.returncode in (0, 1), run.describe()
    assert_ended_normally(run, run.returncode)
    report = parse_report(run.stdout)
    assert report.exceptions == [], run.describe()
    post = report.entries.get(("POST", "/accept"))
    assert post is not None and post["reqs"] == iterations, run.describe()
    assert accepted == post["reqs"] - post["fails"], (accepted, run.describe())
    for count, text in report.errors:
        assert text in ("POST /accept: reset", "POST /accept: closed"), run.describe()
    assert_users_went_on(report, iterations, run)


def test_post_after_an_idle_close_goes_on_a_new_connection():
    # The server closed the idle connection well before the POST: it cannot have read any of
    # it, so the POST goes on a new connection and succeeds, each exactly once.
    iterations = 4
    with start_misbehaving_server() as server:
        run = run_case("idle_closed_then_post", server, iterations=iterations)
        accepted = server.requests("/accept")
    assert_ended_normally(run, 0)
    report = parse_report(run.stdout)
    assert report.errors == [] and report.exceptions == [], run.describe()
    assert report.entries[("POST", "/accept")]["reqs"] == iterations == accepted, (accepted, run.describe())


def closed_keep_alive_then_each_request_kind(tls):
    iterations = 4
    with start_misbehaving_server(tls=tls) as server:
        run = run_case("closed_then_each", server, iterations=iterations, extra_args=("--insecure",) if tls else ())
        accepted = server.requests("/accept")
    assert run.returncode in (0, 1), run.describe()
    assert_ended_normally(run, run.returncode)
    report = parse_report(run.stdout)
    assert report.exceptions == [], run.describe()
    succeeded = 0
    for method, name in (("GET", "GET after close"), ("POST", "small POST after close"),
                         ("POST", "large POST after close")):
        entry = report.entries.get((method, name))
        assert entry is not None and entry["reqs"] == iterations, (name, run.describe())
        succeeded += entry["reqs"] - entry["fails"]
    # A GET that met the closed connection went again on a new one: it never fails.
    assert report.entries[("GET", "GET after close")]["fails"] == 0, run.describe()
    for count, text in report.errors:
        assert re.fullmatch(r"POST (small|large) POST after close: (reset|closed)", text), run.describe()
    # Never lost, never counted twice: the server saw exactly the requests that succeeded.
    assert accepted == succeeded, (accepted, succeeded, run.describe())
    assert_users_went_on(report, iterations, run)


def test_closed_keep_alive_then_get_small_post_and_large_post():
    closed_keep_alive_then_each_request_kind(tls=False)


def test_closed_keep_alive_then_get_small_post_and_large_post_over_tls():
    closed_keep_alive_then_each_request_kind(tls=True)


def tls_handshake_failure(handshake, reason):
    iterations = 4
    with start_misbehaving_server(tls=True, handshake=handshake) as server:
        command = [cicada_bin(), "run", SCENARIOS / "misbehaving_tls_handshake.lua", "-H", server.url, "--insecure",
                   "-u", "1", "--iterations", str(iterations)]
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                                stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    report = parse_report(result.stdout)
    assert report.entries[("GET", "/ok")] == {**report.entries[("GET", "/ok")], "reqs": iterations,
                                              "fails": iterations}, result.stdout
    assert len(report.errors) == 1 and report.errors[0][0] == iterations, result.stdout
    error = report.errors[0][1].removeprefix("GET /ok: ")
    assert reason(error), error


def test_reset_during_the_tls_handshake_is_a_failure():
    tls_handshake_failure("reset", lambda error: error == "reset")


def test_tls_alert_is_a_failure_with_its_reason():
    tls_handshake_failure("alert", lambda error: error == "tls: sslv3 alert handshake failure")


def test_a_thousand_refused_connections_in_a_row():
    with socket.socket() as probe:  # a port nobody listens on: bound, never listening
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
        command = [cicada_bin(), "run", SCENARIOS / "misbehaving_refused.lua", "-H", url, "-u", "2", "-r", "100",
                   "--iterations", "1000"]
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                                stdin=subprocess.DEVNULL, cwd=REPO_ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    report = parse_report(result.stdout)
    assert report.entries[("GET", "/refused")]["reqs"] == 1000, result.stdout
    assert report.errors == [(1000, "GET /refused: connect refused")], report.errors


def test_early_response_then_reset_while_uploading_is_never_a_signal():
    # Seen: exit 141. The 413 is recorded when it arrived before the reset, else the reset.
    with start_misbehaving_server() as server:
        run = run_case("early_response_reset", server, iterations=4)
    assert_ended_normally(run, 1)
    report = parse_report(run.stdout)
    entry = report.entries.get(("POST", "/early-response-reset"))
    assert entry is not None and entry["reqs"] == 4 and entry["fails"] == 4, run.describe()
    for count, text in report.errors:
        assert text in ("POST /early-response-reset: HTTP 413 Content Too Large",
                        "POST /early-response-reset: reset"), run.describe()
    assert_users_went_on(report, 4, run)


def test_interim_1xx_responses_before_the_200():
    assert_succeeded("interim_responses")


# --- responses without a body ---------------------------------------------------------------

def test_204_304_and_head_have_no_body():
    run, report, server = assert_succeeded("no_body")
    for method, path in (("GET", "/no-content"), ("GET", "/not-modified"), ("HEAD", "/head"), ("GET", "/head")):
        assert report.entries[(method, path)]["reqs"] == 4, (method, path, run.describe())
    # A client that waited for a body would have timed out; one that misread the framing would
    # have had to reconnect: each user kept its one connection.
    assert server.connections == 2, server.connections


# --- redirects ------------------------------------------------------------------------------

# Up to 30 redirects are followed: the original request and 30 more reach the server, then the
# 31st redirect is refused.
REQUESTS_PER_REDIRECT_LOOP = 31


def test_redirect_loop_to_itself():
    def followed_thirty(server):
        assert server.requests("/redirect-self") == 4 * REQUESTS_PER_REDIRECT_LOOP, server.requests("/redirect-self")
    assert_failed("redirect_self", "/redirect-self", "too many redirects", server_check=followed_thirty)


def test_redirect_loop_between_two_paths():
    def followed_thirty(server):
        a, b = server.requests("/redirect-a"), server.requests("/redirect-b")
        assert (a, b) == (4 * 16, 4 * 15), (a, b)
    run = assert_failed("redirect_ping_pong", "/redirect-a", "too many redirects", server_check=followed_thirty)
    # The sample is recorded under the original name only.
    assert ("GET", "/redirect-b") not in parse_report(run.stdout).entries, run.describe()


# --- bodies that do not decode --------------------------------------------------------------

def test_corrupt_gzip_body():
    def gzip_reason(error):
        match = re.fullmatch(r"content decoding failed \(gzip: (.+)\)", error)
        return bool(match and match.group(1).strip())
    run = assert_failed("corrupt_gzip", "/corrupt-gzip", gzip_reason)
    assert parse_report(run.stdout).entries[("GET", "/gzip")]["fails"] == 0, run.describe()


def test_gzip_bomb_is_too_large():
    # 64 KiB of gzip that decode to 64 MiB: decoding stops at the kept-body limit.
    assert_failed("gzip_bomb", "/gzip-bomb", "body too large", users=1, iterations=2, memory_bound_mib=48)


def test_malformed_json_is_an_exception_and_the_user_goes_on():
    iterations = 4
    with start_misbehaving_server() as server:
        run = run_case("malformed_json", server, iterations=iterations)
    assert_ended_normally(run, 1)  # exceptions make the exit code 1, as failures do
    report = parse_report(run.stdout)
    assert report.total["fails"] == 0 and report.errors == [], run.describe()
    assert report.entries[("GET", "/malformed-json")]["reqs"] == iterations, run.describe()
    assert len(report.exceptions) == 1, run.describe()
    count, message = report.exceptions[0]
    assert count == iterations and "not valid JSON" in message, run.describe()
    assert_users_went_on(report, iterations, run)
    assert_memory_bounded(run, 2)


if __name__ == "__main__":
    run_tests(globals())
