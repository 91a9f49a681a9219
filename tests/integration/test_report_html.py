"""The HTML report in a real browser: Debian's headless Chromium opens the file offline and the
test asserts, through the DevTools protocol, that every chart is drawn (its canvas holds the
series' colours), that the page logged no error and fetched nothing, and takes a screenshot.

Chromium is driven over --remote-debugging-pipe (file descriptors 3 and 4, NUL-terminated JSON
messages), so the test needs nothing beyond Python's standard library and the browser."""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

from harness import REPO_ROOT, run_cicada, run_tests, start_target

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
CHARTS = ("chart-rps", "chart-response-times", "chart-users")
# The first series of each chart and its colour in runtime/report/web/report.js.
SERIES_COLOURS = {"chart-rps": (0x09, 0x69, 0xDA), "chart-response-times": (0x1A, 0x7F, 0x37),
                  "chart-users": (0x05, 0x50, 0xAE)}


def chromium_binary():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Chromium is not installed (scripts/setup installs Debian's chromium)")


class DevTools:
    """A headless Chromium and a DevTools session over its pipe. Every wait is bounded."""

    def __init__(self, user_data_dir):
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def place_pipes():  # in the child: the protocol lives on fds 3 (in) and 4 (out)
            reading, writing = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(reading, 3)
            os.dup2(writing, 4)

        self.process = subprocess.Popen(
            [chromium_binary(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             "--remote-debugging-pipe", f"--user-data-dir={user_data_dir}", "--window-size=1280,2000",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            preexec_fn=place_pipes, close_fds=False)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def close(self):
        try:
            self.send("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process.stderr.close()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def _read_message(self, deadline):
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            assert remaining > 0, "Chromium did not answer in time"
            readable, _, _ = select.select([self._from_browser], [], [], remaining)
            if readable:
                chunk = os.read(self._from_browser, 1 << 16)
                assert chunk, "Chromium closed its DevTools pipe"
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=60):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event


# Counts, per chart, the canvas pixels close to the colour of its first series.
COUNT_SERIES_PIXELS = """
(() => {
  const colours = %s;
  const counts = {};
  for (const [id, [r, g, b]] of Object.entries(colours)) {
    const canvas = document.querySelector('#' + id + ' canvas');
    if (!canvas) { counts[id] = -1; continue; }
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < pixels.length; i += 4)
      if (pixels[i + 3] > 200 && Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 40) n++;
    counts[id] = n;
  }
  return JSON.stringify(counts);
})()
"""


def test_html_report_renders_its_charts_offline_without_errors():
    with start_target() as target, tempfile.TemporaryDirectory() as directory:
        report = os.path.join(directory, "report_{u}u.html")
        result = run_cicada(["run", SCENARIOS / "report_mix.lua", "-H", target.url, "-u", "3", "-r", "3", "-t", "4s",
                             "--html", report, "--threshold", "p95<10s", "--threshold", "GET broken failures<1"],
                            timeout=60)
        assert result.returncode == 3, result.stderr
        report = os.path.join(directory, "report_3u.html")  # Locust's {u} placeholder
        html = open(report, encoding="utf-8").read()
        assert "<script src" not in html and "<link" not in html  # self-contained
        assert "1 of 2 thresholds failed" in html

        browser = DevTools(os.path.join(directory, "profile"))
        try:
            target_id = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target_id, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                browser.send(f"{domain}.enable", session=session)
            browser.send("Page.navigate", {"url": "file://" + report}, session=session)
            browser.wait_for_event("Page.loadEventFired")
            counts = json.loads(browser.send("Runtime.evaluate", {"expression": COUNT_SERIES_PIXELS % json.dumps(
                {k: list(v) for k, v in SERIES_COLOURS.items()}), "returnByValue": True}, session=session)
                ["result"]["value"])
            title = browser.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True},
                                 session=session)["result"]["value"]
            screenshot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                      session=session)["data"]
        finally:
            browser.close()

        shot = os.path.join(tempfile.gettempdir(), "cicada-report-screenshot.png")
        with open(shot, "wb") as f:
            f.write(base64.b64decode(screenshot))
        print(f"screenshot: {shot}")
        assert title == "cicada report: " + str(SCENARIOS / "report_mix.lua"), title
        for chart in CHARTS:
            assert counts[chart] > 100, (chart, counts)  # a drawn line, not just axes and grid
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"
                  or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning"))
                  or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"))]
        assert errors == [], errors
        fetched = [e["params"]["request"]["url"] for e in browser.events
                   if e.get("method") == "Network.requestWillBeSent"]
        assert all(url.startswith("file://") for url in fetched), fetched


if __name__ == "__main__":
    run_tests(globals())
