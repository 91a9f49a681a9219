"""A script written for Locust's web API works unchanged against cicada: the same client
(tests/integration/locust/api_client.py) drives Debian's Locust (2.12) and cicada, and every
name Locust's /stats/requests answers with is in cicada's answer too."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

from harness import REPO_ROOT, _stop, run_tests, start_target
from web_ui import web_run

LOCUST_DIR = REPO_ROOT / "tests" / "integration" / "locust"
SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def run_client(url, target_url):
    result = subprocess.run([sys.executable, LOCUST_DIR / "api_client.py", url, target_url], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, (url, result.stdout, result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_against_locust(target_url):
    port = free_port()
    locust = subprocess.Popen(["locust", "-f", LOCUST_DIR / "locustfile.py", "--web-host", "127.0.0.1", "--web-port",
                               str(port), "-H", target_url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, cwd=LOCUST_DIR)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert locust.poll() is None and time.monotonic() < deadline, "Locust's web UI did not come up"
                time.sleep(0.2)
        return run_client(f"http://127.0.0.1:{port}/", target_url)
    finally:
        _stop(locust, 30, signal.SIGTERM)


def test_the_same_client_drives_locust_and_cicada():
    with start_target() as target:
        locust = run_against_locust(target.url)
        with web_run([SCENARIOS / "web_two_endpoints.lua", "-H", target.url, "--web-port", "0", "--only-summary"]) as web:
            cicada = run_client(web.url, target.url)
    assert locust["requests"] > 0 and cicada["requests"] > 0
    # Every name Locust answers with, cicada answers with too (cicada adds its own).
    missing_top = set(locust["top_level"]) - set(cicada["top_level"])
    missing_entry = set(locust["entry"]) - set(cicada["entry"])
    assert not missing_top and not missing_entry, (missing_top, missing_entry)
    # /tasks has Locust's shape: a ratio per class and per task, per class and in total (read
    # after the stop: no users, so the classes' ratios are 0 in both).
    for document in (locust["tasks"], cicada["tasks"]):
        assert set(document) == {"per_class", "total"}, document
        assert set(document["per_class"]["Web"]) == {"ratio", "tasks"}, document
        assert sorted(t["ratio"] for t in document["per_class"]["Web"]["tasks"].values()) == [0.25, 0.75], document


if __name__ == "__main__":
    run_tests(globals())
