"""`cicada run` against nginx from Debian: exact counts seen on both sides, keep-alive limits
forcing reconnects, and nginx's own error statuses."""

from harness import REPO_ROOT, run_cicada, run_tests
from servers import nginx_access_count, parse_report, start_nginx

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def test_exact_counts_match_nginx_access_log():
    with start_nginx() as nginx:
        result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", nginx.url, "-u", "10", "-r", "1000",
                             "--iterations", "2000", "--threads", "2"], timeout=60)
        assert result.returncode == 0, result.stderr
        assert parse_report(result.stdout).total["reqs"] == 2000
        assert nginx_access_count(nginx) == 2000


def test_keepalive_limit_reconnects_without_losing_requests():
    # nginx closes each connection after 7 requests: cicada must reconnect, and a request that
    # races the close is retried, never lost or counted twice.
    with start_nginx(keepalive_requests=7) as nginx:
        result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", nginx.url, "-u", "5", "-r", "1000",
                             "--iterations", "1000"], timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        report = parse_report(result.stdout)
        assert report.total["reqs"] == 1000
        assert report.total["fails"] == 0
        assert nginx_access_count(nginx) == 1000


def test_nginx_statuses_and_json():
    with start_nginx() as nginx:
        result = run_cicada(["run", SCENARIOS / "nginx_mix.lua", "-H", nginx.url, "-u", "4", "-r", "1000",
                             "--iterations", "1000"], timeout=60)
        assert result.returncode == 1, result.stderr
        report = parse_report(result.stdout)
        assert report.exceptions == []
        items = report.entries[("GET", "/items/[id]")]
        missing = report.entries[("GET", "/missing")]
        assert items["reqs"] + missing["reqs"] == 1000
        assert missing["fails"] == missing["reqs"] and items["fails"] == 0
        assert 0.15 <= missing["reqs"] / 1000 <= 0.25
        assert report.errors == [(int(missing["reqs"]), "GET /missing: HTTP 404 Not Found")]


if __name__ == "__main__":
    run_tests(globals())
