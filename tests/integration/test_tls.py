"""TLS against nginx from Debian with certificates made by the test (openssl req): verification
against the system store and a CA file, host names, mutual TLS, session resumption."""

import contextlib
import os
import re
import subprocess
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests
from servers import free_port, nginx_process, parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(directory):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key.pem", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=cicada test CA", cwd=directory)

    def signed(name, subject, extensions):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key.pem", "-out", f"{name}.csr",
                "-subj", subject, cwd=directory)
        with open(os.path.join(directory, f"{name}.ext"), "w") as ext:
            ext.write(extensions + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key.pem", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=directory)

    signed("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    signed("other", "/CN=other.test", "subjectAltName=DNS:other.test")
    signed("client", "/CN=load tester", "extendedKeyUsage=clientAuth")


NGINX_TLS = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  log_format tls '$server_port $ssl_session_reused $status';
  access_log {dir}/access.log tls;
  keepalive_timeout 0;
  server {{
    listen 127.0.0.1:{tls_port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key.pem;
    location / {{ return 200 "secure\\n"; }}
    location /redirect {{ return 302 /; }}
  }}
  server {{
    listen 127.0.0.1:{mtls_port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key.pem;
    ssl_client_certificate {dir}/ca.pem;
    ssl_verify_client on;
    location / {{ return 200 "hello $ssl_client_s_dn\\n"; }}
  }}
  server {{
    listen 127.0.0.1:{other_port} ssl;
    ssl_certificate {dir}/other.pem;
    ssl_certificate_key {dir}/other.key.pem;
    location / {{ return 200 "other\\n"; }}
  }}
}}
"""


@contextlib.contextmanager
def tls_nginx():
    directory = tempfile.mkdtemp(prefix="cicada-tls-")
    make_certificates(directory)
    ports = {"tls_port": free_port(), "mtls_port": free_port(), "other_port": free_port()}
    with nginx_process(directory, NGINX_TLS.format(dir=directory, **ports), ports.values()):
        yield directory, ports


def cases(stdout):
    found = {}
    for line in stdout.splitlines():
        match = re.match(r"case (\S+) status=(\d+) error=(.*) tls=(yes|no) body=(.*)$", line)
        if match:
            found.setdefault(match.group(1), []).append(
                {"status": int(match.group(2)), "error": match.group(3), "tls": match.group(4), "body": match.group(5)})
    return found


def test_verification_names_client_certificates_and_resumption():
    with tls_nginx() as (directory, ports):
        env = dict(os.environ, TLS_DIR=directory, TLS_PORT=str(ports["tls_port"]), MTLS_PORT=str(ports["mtls_port"]),
                   OTHER_PORT=str(ports["other_port"]))
        result = run_cicada(["run", SCENARIOS / "tls_cases.lua", "-H", "http://127.0.0.1:9", "-u", "1", "--threads", "1",
                             "--iterations", "3"], timeout=60, env=env)
        found = cases(result.stdout)
        assert len(found) == 8 and all(len(runs) == 3 for runs in found.values()), result.stdout + result.stderr

        # Self-signed CA not in the system store: a clear failure, never a silent success.
        for run in found["default"]:
            assert run["status"] == 0
            assert run["error"] == "tls: certificate verify failed (unable to get local issuer certificate)", run
        assert all(r["status"] == 200 and r["body"] == "secure" for r in found["insecure"])
        assert all(r["status"] == 200 for r in found["ca_file"] + found["by_name"] + found["redirect"])
        for run in found["mismatch"]:
            assert run["error"] == "tls: certificate verify failed (IP address mismatch)", run
        for run in found["mtls_without"]:
            assert run["status"] == 400 and run["error"] == "HTTP 400 Bad Request", run
        for run in found["mtls_with"]:
            assert run["status"] == 200 and "CN=load tester" in run["body"], run
        # Every request opens a connection (keepalive_timeout 0) and does a handshake.
        assert all(r["tls"] == "yes" for r in found["ca_file"]), found["ca_file"]

        report = parse_report(result.stdout)
        assert report.entries[("GET", "default")]["fails"] == 3
        assert report.entries[("GET", "insecure")]["fails"] == 0

        # Later connections resume the TLS session instead of a full handshake.
        with open(os.path.join(directory, "access.log")) as log:
            lines = [line.split() for line in log if line.startswith(str(ports["tls_port"]))]
        reused = [line for line in lines if line[1] == "r"]
        assert len(lines) >= 9 and len(reused) >= len(lines) - 3, lines


def test_https_host_and_insecure_flag():
    with tls_nginx() as (directory, ports):
        host = f"https://127.0.0.1:{ports['tls_port']}"
        strict = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", host, "-i", "5"], timeout=60)
        assert strict.returncode == 1
        assert parse_report(strict.stdout).errors == [
            (5, "GET /: tls: certificate verify failed (unable to get local issuer certificate)")]
        relaxed = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", host, "-i", "5", "--insecure"], timeout=60)
        assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr
        assert parse_report(relaxed.stdout).total["reqs"] == 5


if __name__ == "__main__":
    run_tests(globals())
