"""Shared helpers for cicada's integration tests (Python 3 standard library only).

Each tests/integration/test_*.py runs as its own script under ctest, with CICADA_BIN set to the
binary under test. Typical use:

    from harness import run_cicada, start_target, run_tests

    def test_something():
        with start_target() as target:
            result = run_cicada(["run", "examples/x.lua", "-H", target.url, "-t", "2s"])
            assert result.returncode == 0, result.stderr

    if __name__ == "__main__":
        run_tests(globals())

Every wait in here is bounded, and all traffic stays on loopback.
"""

import contextlib
import dataclasses
import http.client
import os
import pathlib
import re
import select
import signal
import subprocess
import sys
import time
import traceback

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

# Default upper bound for one cicada invocation; pass a tighter one where the test knows better.
DEFAULT_TIMEOUT = 60

_LISTENING_LINE = re.compile(r"cicada target listening on (http://(\[[^\]]+\]|[^:/\s]+):(\d+)) \((\d+) threads\)")


def cicada_bin():
    """Path of the cicada binary: $CICADA_BIN, else build/cicada under the repository root."""
    path = pathlib.Path(os.environ.get("CICADA_BIN") or REPO_ROOT / "build" / "cicada")
    if not path.is_file():
        raise FileNotFoundError(f"cicada binary not found at {path} (build it, or set CICADA_BIN)")
    return str(path)


def run_cicada(args, timeout=DEFAULT_TIMEOUT, input=None, env=None, cwd=None):
    """Runs `cicada ARGS...` to completion; returns subprocess.CompletedProcess with text output.

    Raises subprocess.TimeoutExpired (after killing the process) when it runs past `timeout`.
    """
    # Without input, stdin is /dev/null rather than the terminal ctest may run in: cicada reads
    # keys from a terminal (and puts it in raw mode), which parallel tests must not share.
    return subprocess.run(
        [cicada_bin(), *[str(a) for a in args]],
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd if cwd is not None else REPO_ROOT,
    )


@dataclasses.dataclass
class Target:
    """A running `cicada target`."""

    host: str  # as given, e.g. "127.0.0.1" or "::1"
    port: int
    url: str  # e.g. "http://127.0.0.1:40123" or "http://[::1]:40123"
    threads: int
    process: subprocess.Popen

    def connect(self, timeout=10):
        """A new http.client connection to the target (connects on first request)."""
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def _read_first_line(process, deadline):
    """The first stdout line of `process`, waiting no later than `deadline` (time.monotonic())."""
    fd = process.stdout.fileno()
    received = b""
    while b"\n" not in received:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no listening line within the start-up timeout (got {received!r})")
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            raise RuntimeError(f"cicada target exited before listening (stdout so far: {received!r})")
        received += chunk
    return received.split(b"\n", 1)[0].decode("utf-8", "replace")


def _stop(process, timeout, stop_signal=signal.SIGTERM):
    """Sends `stop_signal`, waits; returns (exit code, stderr text). Kills the process if it hangs."""
    if process.poll() is None:
        process.send_signal(stop_signal)
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate(timeout=timeout)
        return None, (stderr or b"").decode("utf-8", "replace") + "\n[harness: killed after SIGTERM timeout]"
    return process.returncode, (stderr or b"").decode("utf-8", "replace")


@contextlib.contextmanager
def start_target(threads=1, host="127.0.0.1", startup_timeout=10, stop_timeout=10, stop_signal=signal.SIGTERM,
                 extra_args=()):
    """Runs `cicada target --port 0` (and `extra_args`, such as `--stall 1s/10s`) for the duration
    of a `with` block and yields a Target.

    On leaving the block the target gets `stop_signal` and must exit with code 0 within
    `stop_timeout` seconds; otherwise the block fails (its own exception, if any, takes precedence).
    """
    command = [cicada_bin(), "target", "--host", host, "--port", "0", "--threads", str(threads), *extra_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stopped = False
    try:
        try:
            line = _read_first_line(process, time.monotonic() + startup_timeout)
        except (TimeoutError, RuntimeError) as error:
            code, stderr = _stop(process, stop_timeout)
            stopped = True
            raise AssertionError(f"{error}; exit code {code}; stderr:\n{stderr}") from None
        match = _LISTENING_LINE.fullmatch(line.strip())
        assert match, f"unexpected listening line: {line!r}"
        assert int(match.group(4)) == threads, line
        yield Target(host=host, port=int(match.group(3)), url=match.group(1), threads=threads, process=process)
    except BaseException:
        if not stopped:
            code, stderr = _stop(process, stop_timeout)
            if code != 0:
                print(f"[harness] cicada target exited with {code}; stderr:\n{stderr}", file=sys.stderr)
        raise
    code, stderr = _stop(process, stop_timeout, stop_signal)
    assert code == 0, f"cicada target exited with {code} after {signal.Signals(stop_signal).name}; stderr:\n{stderr}"


def run_tests(namespace, argv=None):
    """Runs every `test_*` function of `namespace` (pass globals()) in definition order, prints
    one line per test, and exits the process: 0 when all passed, 1 otherwise.

    Command-line arguments select tests whose name contains any of them.
    """
    selectors = sys.argv[1:] if argv is None else argv
    tests = [(name, fn) for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    if selectors:
        tests = [(name, fn) for name, fn in tests if any(s in name for s in selectors)]
    failed = []
    for name, fn in tests:
        started = time.monotonic()
        try:
            fn()
        except Exception:
            failed.append(name)
            print(f"FAIL {name} ({time.monotonic() - started:.2f}s)", flush=True)
            traceback.print_exc()
        else:
            print(f"ok   {name} ({time.monotonic() - started:.2f}s)", flush=True)
    print(f"{len(tests) - len(failed)} passed, {len(failed)} failed" + (f": {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed or not tests else 0)
