"""Servers and report parsing for the `cicada run` integration tests.

nginx (Debian's) is started per test with its own temporary configuration on a free loopback
port; `silent_listener` records whether anything connected at all (for "no traffic" checks).
`parse_report` reads cicada's final console report back into numbers.
"""

import contextlib
import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


@dataclasses.dataclass
class Nginx:
    port: int
    url: str
    directory: str


NGINX_CONFIG = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  log_format connections '$connection $status $request_uri';
  access_log {dir}/access.log connections;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests {keepalive_requests};
  server {{
    listen 127.0.0.1:{port};
    location = / {{ return 200 "ok\\n"; }}
    location /items/ {{ default_type application/json; return 200 '{{"price": 10}}'; }}
    location /missing {{ return 404; }}
    location /error {{ return 500; }}
  }}
}}
"""


@contextlib.contextmanager
def nginx_process(directory, config, ports):
    """Runs nginx with `config` (written into `directory`) until the `with` block ends, once it
    listens on every port in `ports`; the directory is removed afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    assert os.path.exists(binary), "nginx is not installed (scripts/setup installs nginx-light)"
    with open(os.path.join(directory, "nginx.conf"), "w") as conf:
        conf.write(config)
    process = subprocess.Popen([binary, "-c", os.path.join(directory, "nginx.conf"), "-p", directory],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for port in ports:
            wait_for_port("127.0.0.1", port)
        yield
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def start_nginx(keepalive_requests=1000):
    """nginx with one worker on a free loopback port, for as long as the `with` block runs."""
    directory = tempfile.mkdtemp(prefix="cicada-nginx-")
    port = free_port()
    config = NGINX_CONFIG.format(dir=directory, port=port, keepalive_requests=keepalive_requests)
    with nginx_process(directory, config, [port]):
        yield Nginx(port=port, url=f"http://127.0.0.1:{port}", directory=directory)


def nginx_access_count(nginx):
    with open(os.path.join(nginx.directory, "access.log")) as log:
        return sum(1 for _ in log)


def nginx_connection_count(nginx):
    """How many distinct client connections nginx served (its $connection serial numbers)."""
    with open(os.path.join(nginx.directory, "access.log")) as log:
        return len({line.split()[0] for line in log if line.strip()})


@dataclasses.dataclass
class Listener:
    port: int
    url: str
    connections: list


@contextlib.contextmanager
def silent_listener():
    """A TCP listener that accepts and counts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    port = server.getsockname()[1]
    accepted = []
    stop = threading.Event()

    def accept_loop():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(conn)
            except socket.timeout:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield Listener(port=port, url=f"http://127.0.0.1:{port}", connections=accepted)
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()


# --- reading cicada's report ----------------------------------------------------------------

STATS_HEADER = ("Type     Name" + " " * 74 + "# reqs      # fails |    Avg     Min     Max    Med |   req/s  failures/s")
_STATS_ROW = re.compile(
    r"^(?P<method>\S*)\s+(?P<name>.*?)\s+(?P<reqs>\d+)\s+(?P<fails>\d+)\((?P<fail_pct>[\d.]+)%\)\s+\|"
    r"\s*(?P<avg>\S+)\s+(?P<min>\S+)\s+(?P<max>\S+)\s*(?P<med>\S+)\s+\|\s+(?P<rps>\S+)\s+(?P<fps>\S+)$")


@dataclasses.dataclass
class Report:
    entries: dict        # (method, name) -> dict of numbers, from the last stats table
    total: dict          # the Aggregated row
    percentiles: dict    # (method, name) or ("", "Aggregated") -> list of 11 floats + count
    errors: list         # (occurrences, "METHOD name: error")
    exceptions: list     # (count, message)
    stats_tables: int    # how many stats tables were printed (periodic + final)


def _number(text):
    return float(text)


def parse_report(stdout):
    lines = stdout.splitlines()
    header_positions = [i for i, line in enumerate(lines) if line.startswith("Type     Name") and "# fails" in line]
    assert header_positions, "no stats table in the output:\n" + stdout
    start = header_positions[-1]
    entries, total = {}, None
    for line in lines[start + 2:]:
        if line.startswith("--------|"):
            continue
        if not line.strip():
            break
        match = _STATS_ROW.match(line)
        assert match, f"unparsable stats row: {line!r}"
        row = {k: (_number(v) if k not in ("method", "name") else v) for k, v in match.groupdict().items()}
        if row["name"] == "Aggregated" and not row["method"]:
            total = row
        else:
            entries[(row["method"], row["name"])] = row
    assert total is not None, "no Aggregated row:\n" + stdout

    percentiles = {}
    if "Response time percentiles (approximated)" in lines:
        p = lines.index("Response time percentiles (approximated)")
        for line in lines[p + 3:]:
            if line.startswith("--------|"):
                continue
            if not line.strip():
                break
            method, rest = line[:8].strip(), line[9:]
            name = rest[:80].strip()
            values = rest[80:].split()
            percentiles[(method, name)] = [float(v) for v in values]

    errors = []
    if "Error report" in lines:
        e = lines.index("Error report")
        for line in lines[e + 3:]:
            if line.startswith("------------------|"):
                break
            count, text = line[:18].strip(), line[19:].rstrip()
            errors.append((int(count), text))

    exceptions = []
    if "Exceptions" in lines:
        x = lines.index("Exceptions")
        for line in lines[x + 3:]:
            if line.startswith("------------------|"):
                break
            if line[:18].strip():
                exceptions.append((int(line[:18].strip()), line[19:].rstrip()))

    return Report(entries=entries, total=total, percentiles=percentiles, errors=errors,
                  exceptions=exceptions, stats_tables=len(header_positions))
