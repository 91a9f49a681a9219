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


def test_request_paths_are_encoded_and_control_characters_refused():
    with start_target() as target:
        result = run_cicada(["run", SCENARIOS / "http_request_paths.lua", "-H", target.url, "-u", "1",
                             "--iterations", "1"], timeout=60)
        report = parse_report(result.stdout)
    assert result.returncode == 0 and report.exceptions == [], result.stdout + result.stderr
    # What python-requests sends for the same call.
    assert "SEEN path=/anything/The%20godfather/1972 query=q=caf%C3%A9%20au%20lait&kept=%41%2F\n" in result.stdout, \
        result.stdout
    refused = dict(re.findall(r"^REFUSED (\w+) (.*)$", result.stdout, re.M))
    assert set(refused) == {"path", "method", "header", "header_name", "absolute"}, result.stdout
    for what, outcome in refused.items():
        assert outcome.startswith("true "), (what, outcome)
    script = "http_request_paths.lua"
    assert re.search(script + r':13: invalid request path "/p HTTP/1.1\\r\\nX-Injected', refused["path"]), refused
    assert "invalid HTTP method" in refused["method"] and "invalid header" in refused["header"], refused
    assert "invalid header" in refused["header_name"], refused
    assert "invalid character in the host" in refused["absolute"], refused
    # Nothing was sent for them: the target answered only the first request.
    assert report.total["reqs"] == 1, result.stdout


def test_redirects_keep_credentials_with_their_origin():
    # curl's and python-requests' rule: Authorization and the cookies given with the request
    # (per request or as a Cookie header) go to the same origin only, for every redirect status.
    with start_target() as target:
        result = run_cicada(["run", SCENARIOS / "http_redirect_credentials.lua", "-H", target.url, "-u", "1",
                             "--iterations", "1"], timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    landed = re.findall(r"^LANDED (\d+) (\w+) (\w+) cookie=(.*) authorization=(.*)$", result.stdout, re.M)
    assert len(landed) == 5 * 2 * 2, result.stdout
    for status, where, how, cookie, authorization in landed:
        if where == "same":
            expected_cookie = '"given=per-request"' if how == "opts" else '"given=header"'
            assert (cookie, authorization) == (expected_cookie, '"Bearer secret"'), (status, where, how)
        else:
            assert (cookie, authorization) == ("none", "none"), (status, where, how, cookie, authorization)


if __name__ == "__main__":
    run_tests(globals())
