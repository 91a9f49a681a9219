"""The HTTP client's features through the real binary, against the built-in target: bodies,
timeouts, timings, body limits, batch, connection pools, client options."""

import os
import pathlib
import re
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests, start_target
from servers import nginx_connection_count, parse_report, start_nginx

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def test_request_features():
    with start_target(threads=2) as target:
        result = run_cicada(["run", SCENARIOS / "http_features.lua", "-H", target.url, "-u", "2", "-r", "100",
                             "--iterations", "6", "Client"], timeout=60)
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        assert result.returncode == 1  # the deliberate timeouts, too-large body and 404
        errors = {text: count for count, text in report.errors}
        assert errors == {
            "GET total timeout: timeout": 6,
            "GET first byte timeout: first byte timeout": 6,
            "GET too large: body too large": 6,
            "GET batch missing: HTTP 404 Not Found": 6,
        }, errors
        assert report.entries[("GET", "discarded")]["fails"] == 0
        # The discarded body still counts in the content size column of the stats.
        assert all(float(m.group(1)) < 0.6 for m in re.finditer(r"batch took=([\d.]+)", result.stdout))


def test_redirects_cookies_compression_auth():
    with start_target() as target:
        result = run_cicada(["run", SCENARIOS / "http_redirects_cookies.lua", "-H", target.url, "-u", "2", "-r", "100",
                             "--iterations", "6"], timeout=60)
        report = parse_report(result.stdout)
        assert report.exceptions == [], result.stdout
        errors = {text: count for count, text in report.errors}
        assert set(errors) == {"GET loop: too many redirects", "GET auth denied: HTTP 401 Unauthorized"} | {
            text for text in errors if text.startswith("GET corrupt gzip: content decoding failed (gzip: ")}, errors
        assert len(errors) == 3 and all(count == 6 for count in errors.values()), errors
        # A redirected request is one sample under its original name.
        assert report.entries[("GET", "chain")]["reqs"] == 6
        assert report.entries[("POST", "303")]["reqs"] == 6


def test_shared_connection_pool():
    def connections(user_class):
        with start_nginx() as nginx:
            result = run_cicada(["run", SCENARIOS / "http_features.lua", "-H", nginx.url, user_class, "-u", "20",
                                 "-r", "100", "--threads", "1", "-t", "30s"], timeout=60)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "All users have stopped" in result.stderr
            assert parse_report(result.stdout).total["reqs"] == 20
            return nginx_connection_count(nginx)

    assert connections("Own") == 20
    assert connections("Shared") <= 2


def test_invalid_client_options_are_load_errors():
    with tempfile.TemporaryDirectory() as directory:
        script = pathlib.Path(directory) / "bad_client.lua"
        script.write_text('local cicada = require "cicada"\n'
                          'local U = cicada.user("U", { client = { pool = "global" } })\n'
                          'U:task(function(self) end)\n')
        result = run_cicada(["run", script, "-H", "http://127.0.0.1:9", "-i", "1"], timeout=30)
        assert result.returncode == 2
        assert f'{script}:2: cicada.user("U"): client: pool must be "user" or "thread"' in result.stderr, result.stderr


if __name__ == "__main__":
    run_tests(globals())
