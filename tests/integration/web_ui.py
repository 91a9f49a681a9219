"""Helpers for the web UI tests: a `cicada run` with its web server up, and HTTP calls to it
(standard library only; every wait bounded; loopback only)."""

import contextlib
import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import _read_first_line, _stop, cicada_bin

_URL_LINE = re.compile(r"Web UI: (http://127\.0\.0\.1:\d+/)")


class WebRun:
    def __init__(self, process, url):
        self.process = process
        self.url = url

    def call(self, path, data=None, headers=None, method=None, timeout=10):
        """(status, headers, body text) of one request; `data` (a list of pairs) is posted as a form."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path.lstrip("/"), data=body, headers=headers or {}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def json(self, path, data=None, headers=None, expect=200):
        status, _, body = self.call(path, data, headers)
        assert status == expect, (path, status, body)
        return json.loads(body)

    def wait_for(self, what, predicate, timeout=60, every=0.2):
        """Polls /stats/requests until predicate(document) holds; returns that document."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                stats = self.json("/stats/requests")
            except OSError:
                # A connection the server closed as it started again for a new test.
                assert time.monotonic() < deadline, f"timed out waiting for {what}: no answer"
                time.sleep(every)
                continue
            if predicate(stats):
                return stats
            assert time.monotonic() < deadline, f"timed out waiting for {what}: {stats['state']}, " \
                                                 f"{stats['user_count']} users, {stats['stats'][-1]['num_requests']} requests"
            time.sleep(every)

    def wait_for_exit(self, timeout=60):
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError("cicada did not exit by itself")
        return self.process.returncode, stderr.decode("utf-8", "replace")


def total(stats):
    return stats["stats"][-1]


@contextlib.contextmanager
def web_run(args, startup_timeout=30, stop_timeout=30):
    """Runs `cicada run ARGS` (which must include --web-port 0 or --metrics --web-port 0) and
    yields a WebRun once its URL is printed; SIGTERM at the end of the block if still running."""
    process = subprocess.Popen([cicada_bin(), "run", *[str(a) for a in args]], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = _read_first_line(process, time.monotonic() + startup_timeout)
        match = _URL_LINE.search(line)
        assert match, f"no URL line: {line!r}"
        yield WebRun(process, match.group(1))
    finally:
        if process.poll() is None:
            code, stderr = _stop(process, stop_timeout, signal.SIGTERM)
            assert code is not None, stderr
