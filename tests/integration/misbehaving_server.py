"""A loopback HTTP server that misbehaves on purpose, one way per path (Python 3 stdlib only).

For the HTTP client's integration tests (test_misbehaving_servers.py):

    with start_misbehaving_server() as server:
        result = run_cicada(["run", scenario, "-H", server.url, ...])
        assert server.requests("/redirect-self") == 31

Every behaviour is registered for one path, most of them as canned bytes; `BEHAVIOURS` lists
them, and `describe()` (or running this file) says what the server does on each. Well-behaved
paths (/ok, /json, /gzip) keep the connection alive, so that a scenario can show that a user
goes on after a failure.

Bounds: every socket operation times out after IO_TIMEOUT seconds; no behaviour holds a
connection longer than HOLD_LIMIT seconds or sends more than ENDLESS_BYTE_LIMIT bytes; leaving
the `with` block closes every connection and joins every thread (with a timeout). A client that
goes away makes the behaviour stop at its next send or wait.
"""

import collections
import contextlib
import dataclasses
import gzip
import os
import select
import socket
import ssl
import subprocess
import tempfile
import struct
import threading
import time
import zlib

IO_TIMEOUT = 10  # seconds for any single recv/send
HOLD_LIMIT = 30  # seconds: the longest a behaviour keeps a connection busy
ENDLESS_BYTE_LIMIT = 128 << 20  # what an "endless" body sends at most before closing
MAX_REQUEST_HEAD = 64 * 1024
JOIN_TIMEOUT = 5

# Bodies the scenarios check against: keep them in step with the misbehaving_*.lua files.
CLOSE_DELIMITED_BODY = b"0123456789" * 10_000  # 100 000 bytes, then the server closes
HEAD_BODY_LENGTH = 5000
GZIP_TEXT = b"decoded gzip body " * 100
HUGE_BODY_LENGTH = 64 << 20
HUGE_HEADERS_BYTES = 2 << 20


@dataclasses.dataclass
class Request:
    method: str
    target: str
    path: str  # the target without its query
    version: str
    headers: dict  # lower-case names; repeated headers keep the last value
    body: bytes = b""
    body_prefix: bytes = b""  # for behaviours that read the body themselves: what came with the head


def _response(status, reason, headers=(), body=b"", length=True):
    """Response bytes; Content-Length is added unless `length` is False or given in `headers`."""
    lines = [f"HTTP/1.1 {status} {reason}"]
    names = {name.lower() for name, _ in headers}
    lines += [f"{name}: {value}" for name, value in headers]
    if length and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


BEHAVIOURS = {}  # path -> (function, reads_body)


def behaviour(path, reads_body=True):
    """Registers `function(server, conn, request) -> keep_open` as the behaviour for `path`.
    The request body is read first unless reads_body is False."""
    def register(function):
        BEHAVIOURS[path] = (function, reads_body)
        return function
    return register


def canned(path, payload, keep_open, description):
    """Registers a behaviour that sends `payload` once the request is read, then keeps the
    connection for the next request or closes it (FIN)."""
    def send(server, conn, request):
        conn.sendall(payload)
        return keep_open
    send.__doc__ = description
    BEHAVIOURS[path] = (send, True)


KEEP, CLOSE = True, False

# --- well-behaved paths -------------------------------------------------------------------

canned("/ok", _response(200, "OK", [("Content-Type", "text/plain")], b"ok"), KEEP, '200 "ok", keep-alive.')
canned("/json", _response(200, "OK", [("Content-Type", "application/json")], b'{"ok": true, "items": [1, 2, 3]}'),
       KEEP, "200 with a valid JSON object, keep-alive.")
@behaviour("/accept", reads_body=False)
def _accept(server, conn, request):
    """200 "accepted" once the whole request body is read, keep-alive. For uploads: the body is
    read and dropped piece by piece, so that megabytes of it never sit in this process (whose
    size the memory checks would count: a child forked from it starts with its peak RSS)."""
    left = int(request.headers.get("content-length", "0") or 0) - len(request.body_prefix)
    while left > 0:
        chunk = conn.recv(min(left, 1 << 16))
        if not chunk:
            return False
        left -= len(chunk)
    conn.sendall(_response(200, "OK", [("Content-Type", "text/plain")], b"accepted"))
    return True


canned("/gzip", _response(200, "OK", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
                          gzip.compress(GZIP_TEXT, mtime=0)),
       KEEP, "200 with GZIP_TEXT gzip-compressed (Content-Encoding: gzip), keep-alive.")

# --- no response, or not HTTP -------------------------------------------------------------

canned("/close-without-response", b"", CLOSE,
       "Reads the request and closes the connection (FIN) without a byte of answer.")
canned("/garbage", b"\x00\x01\x02\xff\xfeSSH-2.0-OpenSSH_9.2 this is not HTTP\r\n\r\n", CLOSE,
       "Answers with bytes that are not HTTP at all, then closes.")
canned("/bad-status-line", b"HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\nok", CLOSE,
       'A status line without a status code ("HTTP/1.1 OK"), then closes.')
canned("/http09", b"<html><body>hello from HTTP/0.9</body></html>\n", CLOSE,
       "An HTTP/0.9 answer: the body alone, no status line, no headers; then closes.")

# --- broken framing -----------------------------------------------------------------------

canned("/short-body", _response(200, "OK", [("Content-Length", "1000")], b"x" * 100), CLOSE,
       "Announces 1000 bytes of body, sends 100 and closes (FIN).")
canned("/bad-chunk-size", _response(200, "OK", [("Transfer-Encoding", "chunked")], b"zz\r\nhello\r\n0\r\n\r\n",
                                    length=False),
       CLOSE, 'A chunked body whose chunk size is not hexadecimal ("zz"), then closes.')
canned("/two-content-lengths", _response(200, "OK", [("Content-Length", "5"), ("Content-Length", "6")], b"hello!"),
       CLOSE, "Two Content-Length headers that disagree (5 and 6), then closes.")
canned("/length-and-chunked", _response(200, "OK", [("Content-Length", "5"), ("Transfer-Encoding", "chunked")],
                                        b"5\r\nhello\r\n0\r\n\r\n"),
       CLOSE, "Content-Length together with Transfer-Encoding: chunked (a smuggling vector), then closes.")
canned("/close-delimited", _response(200, "OK", [("Content-Type", "text/plain")], CLOSE_DELIMITED_BODY, length=False),
       CLOSE, "HTTP/1.1 200 with neither Content-Length nor chunking: the body (CLOSE_DELIMITED_BODY) ends when "
              "the server closes the connection.")
canned("/keep-alive-then-close", _response(200, "OK", [("Connection", "keep-alive"), ("Keep-Alive", "timeout=60")],
                                           b"ok"),
       CLOSE, "A complete response announcing keep-alive; the server closes the connection right after.")


@behaviour("/keep-alive-then-idle-close")
def _keep_alive_then_idle_close(server, conn, request):
    """A complete response announcing keep-alive; 100 ms later the server closes the idle
    connection, as nginx's keepalive_timeout or a cloud load balancer does."""
    conn.sendall(_response(200, "OK", [("Connection", "keep-alive"), ("Keep-Alive", "timeout=0")], b"ok"))
    time.sleep(0.1)
    return False


@behaviour("/reset-mid-body")
def _reset_mid_body(server, conn, request):
    """Announces 1 MB, sends 64 KiB, waits for the client to read them, then resets (RST)."""
    conn.sendall(_response(200, "OK", [("Content-Length", str(1 << 20))], b"r" * (64 * 1024)))
    time.sleep(0.2)
    _reset(conn)
    return False


# --- too much -----------------------------------------------------------------------------

_FILLER = "f" * 1000
canned("/huge-headers",
       b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
       + "".join(f"X-Filler-{i:05d}: {_FILLER}\r\n"
                 for i in range(HUGE_HEADERS_BYTES // (len(_FILLER) + 20) + 1)).encode("latin-1")
       + b"\r\nok",
       KEEP, "2 MiB of headers (1 KiB each) before a 2-byte body.")


@behaviour("/huge-body")
def _huge_body(server, conn, request):
    """A 64 MiB body with its Content-Length, sent as fast as the client reads; keep-alive."""
    conn.sendall(_response(200, "OK", [("Content-Type", "application/octet-stream"),
                                       ("Content-Length", str(HUGE_BODY_LENGTH))]))
    block = b"b" * (1 << 20)
    for _ in range(HUGE_BODY_LENGTH // len(block)):
        conn.sendall(block)
    return True


def _endless_chunks(server, conn, chunk, pause):
    """Sends `chunk` as one chunk after another until HOLD_LIMIT or ENDLESS_BYTE_LIMIT, then
    closes without the last chunk: a client that never gave up sees the connection closed."""
    conn.sendall(_response(200, "OK", [("Transfer-Encoding", "chunked")], length=False))
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    deadline = time.monotonic() + HOLD_LIMIT
    sent = 0
    while time.monotonic() < deadline and sent < ENDLESS_BYTE_LIMIT and not server.stopping:
        conn.sendall(framed)
        sent += len(chunk)
        if pause:
            time.sleep(pause)
    return False


@behaviour("/endless-chunked")
def _endless_chunked(server, conn, request):
    """A chunked body that never ends, 64 KiB chunks as fast as the client reads."""
    return _endless_chunks(server, conn, b"e" * (64 * 1024), pause=0)


@behaviour("/endless-chunked-slow")
def _endless_chunked_slow(server, conn, request):
    """A chunked body that never ends, trickling: 1 KiB every 50 ms (never idle, never done)."""
    return _endless_chunks(server, conn, b"s" * 1024, pause=0.05)


# --- too slow -----------------------------------------------------------------------------

@behaviour("/slow-drip")
def _slow_drip(server, conn, request):
    """A valid 200 response with a 10-byte body, sent one byte every 500 ms (24 s in all)."""
    payload = _response(200, "OK", [("Content-Length", "10")], b"0123456789")
    deadline = time.monotonic() + HOLD_LIMIT
    for i in range(len(payload)):
        if server.stopping or time.monotonic() > deadline:
            return False
        conn.sendall(payload[i:i + 1])
        time.sleep(0.5)
    return True


@behaviour("/never-respond")
def _never_respond(server, conn, request):
    """Reads the request and never answers; holds the connection until the client closes it."""
    _hold(server, conn, HOLD_LIMIT)
    return False


# --- early and interim responses ----------------------------------------------------------

@behaviour("/early-response", reads_body=False)
def _early_response(server, conn, request):
    """Answers 413 + Connection: close as soon as the request head is in, before reading the
    body; then drains what the client still sends before closing (as nginx's lingering close
    does), so that the client is not reset before it has read the answer."""
    conn.sendall(_response(413, "Content Too Large", [("Connection", "close"), ("Content-Type", "text/plain")],
                           b"request body too large"))
    _drain_and_close(server, conn, HOLD_LIMIT)
    return False


@behaviour("/early-response-reset", reads_body=False)
def _early_response_reset(server, conn, request):
    """Answers 413 + Connection: close as soon as the request head is in and closes at once,
    with the request body unread: the kernel resets the connection while the client is still
    sending (a server without nginx's lingering close)."""
    conn.sendall(_response(413, "Content Too Large", [("Connection", "close"), ("Content-Type", "text/plain")],
                           b"request body too large"))
    return False


canned("/interim-responses",
       b"HTTP/1.1 100 Continue\r\n\r\n"
       b"HTTP/1.1 102 Processing\r\n\r\n"
       b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
       + _response(200, "OK", [("X-Final", "yes")], b"final"),
       KEEP, "100 Continue, 102 Processing and 103 Early Hints (with a Link header) before the 200.")

# --- responses without a body -------------------------------------------------------------

canned("/no-content", b"HTTP/1.1 204 No Content\r\nX-Status: none\r\n\r\n", KEEP,
       "204 No Content: no body and no length, keep-alive.")
canned("/not-modified", b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 1234\r\n\r\n', KEEP,
       "304 Not Modified that repeats the resource's Content-Length (1234) but has no body; keep-alive.")


@behaviour("/head")
def _head(server, conn, request):
    """Content-Length: HEAD_BODY_LENGTH; the body itself only for methods other than HEAD."""
    body = b"h" * HEAD_BODY_LENGTH
    payload = _response(200, "OK", [("Content-Type", "text/plain")], body)
    conn.sendall(payload[:-len(body)] if request.method == "HEAD" else payload)
    return True


# --- redirects ----------------------------------------------------------------------------

canned("/redirect-self", _response(302, "Found", [("Location", "/redirect-self")]), KEEP, "302 to itself, forever.")
canned("/redirect-a", _response(302, "Found", [("Location", "/redirect-b")]), KEEP,
       "302 to /redirect-b (which sends back here).")


@behaviour("/redirect-b")
def _redirect_b(server, conn, request):
    """302 to /redirect-a, with an absolute URL this time."""
    conn.sendall(_response(302, "Found", [("Location", f"http://127.0.0.1:{server.port}/redirect-a")]))
    return True


# --- bodies that do not decode ------------------------------------------------------------

# A valid gzip header (RFC 1952), then a deflate block of the reserved type 11: zlib says
# "invalid block type".
CORRUPT_GZIP_BODY = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * 32
canned("/corrupt-gzip", _response(200, "OK", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
                                  CORRUPT_GZIP_BODY),
       KEEP, "Content-Encoding: gzip with a body that is not valid gzip past its header; keep-alive.")


@behaviour("/gzip-bomb")
def _gzip_bomb(server, conn, request):
    """Content-Encoding: gzip, 64 KiB on the wire that decode to 64 MiB of zeros; keep-alive."""
    conn.sendall(_response(200, "OK", [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")], _gzip_bomb_body()))
    return True


_bomb = []


def _gzip_bomb_body():
    """Compressed on first use (it takes a moment), then kept."""
    if not _bomb:
        # Streamed one MiB at a time: 64 MiB of zeros in this process would raise its peak RSS,
        # which every cicada forked from it afterwards reports as its own (ru_maxrss is
        # inherited across fork), failing the memory checks of the tests that follow.
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip framing
        block = bytes(1 << 20)
        parts = [compressor.compress(block) for _ in range(HUGE_BODY_LENGTH // len(block))]
        parts.append(compressor.flush())
        _bomb.append(b"".join(parts))
    return _bomb[0]


canned("/malformed-json", _response(200, "OK", [("Content-Type", "application/json")], b'{"items": [1, 2,'), KEEP,
       "200 application/json whose body is cut in the middle of an array; keep-alive.")


# --- the server ---------------------------------------------------------------------------

def _reset(conn):
    """Closes with SO_LINGER 0: the kernel sends RST instead of FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def _hold(server, conn, seconds):
    """Waits until the client closes, the server stops, or `seconds` pass; discards input."""
    deadline = time.monotonic() + seconds
    while not server.stopping and time.monotonic() < deadline:
        readable, _, _ = select.select([conn], [], [], 0.1)
        if readable and not conn.recv(65536):
            return


def _drain_and_close(server, conn, seconds):
    conn.shutdown(socket.SHUT_WR)
    _hold(server, conn, seconds)


_certificate = []


def _self_signed_certificate():
    """(certificate, key) files for 127.0.0.1, made once per process with openssl."""
    if not _certificate:
        directory = tempfile.mkdtemp(prefix="cicada-misbehaving-tls-")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
                        "cert.pem", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       cwd=directory, check=True, capture_output=True, timeout=60)
        _certificate.append((os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")))
    return _certificate[0]


# TLS-level misbehaviour, for a server started with tls=True (the path is not known yet then).
HANDSHAKES = {
    "ok": "A normal TLS handshake; then the path's behaviour.",
    "reset": "Reads the ClientHello and resets the connection (RST) in the middle of the handshake.",
    "alert": "Reads the ClientHello and answers with a fatal TLS alert (handshake_failure), then closes.",
}
_HANDSHAKE_FAILURE_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])


class MisbehavingServer:
    """Accepts on 127.0.0.1 (an ephemeral port) and serves each connection in its own thread.
    With tls=True it speaks HTTPS (a self-signed certificate: clients pass verify = false), and
    `handshake` (see HANDSHAKES) says how the TLS handshake goes."""

    def __init__(self, tls=False, handshake="ok"):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(128)
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._handshake = handshake
        self._tls = None
        if tls:
            self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._tls.load_cert_chain(*_self_signed_certificate())
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connections = 0
        self._requests = collections.Counter()
        self._open = set()
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept_loop, name="misbehaving-accept", daemon=True)
        self._acceptor.start()

    @property
    def stopping(self):
        return self._stop.is_set()

    @property
    def connections(self):
        """Connections accepted so far."""
        with self._lock:
            return self._connections

    def requests(self, path=None):
        """Requests whose head was read, for one path (without query), or in all."""
        with self._lock:
            return self._requests[path] if path is not None else sum(self._requests.values())

    def stop(self):
        self._stop.set()
        self._acceptor.join(JOIN_TIMEOUT)
        self._listener.close()
        with self._lock:
            open_connections = list(self._open)
            threads = list(self._threads)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked in recv or send
        for thread in threads:
            thread.join(JOIN_TIMEOUT)

    def _accept_loop(self):
        while not self._stop.is_set():
            readable, _, _ = select.select([self._listener], [], [], 0.1)
            if not readable:
                continue
            try:
                conn, _ = self._listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), name="misbehaving-conn", daemon=True)
            with self._lock:
                self._connections += 1
                self._open.add(conn)
                self._threads.append(thread)
            thread.start()

    def _serve(self, conn):
        conn.settimeout(IO_TIMEOUT)
        buffered = b""
        try:
            if self._tls:
                if self._handshake != "ok":
                    conn.recv(65536)  # the ClientHello
                    if self._handshake == "reset":
                        _reset(conn)
                    else:
                        conn.sendall(_HANDSHAKE_FAILURE_ALERT)
                    return
                tls_conn = self._tls.wrap_socket(conn, server_side=True)
                with self._lock:
                    self._open.discard(conn)
                    self._open.add(tls_conn)
                conn = tls_conn
            while not self._stop.is_set():
                request, buffered = self._read_head(conn, buffered)
                if request is None:
                    return
                with self._lock:
                    self._requests[request.path] += 1
                function, reads_body = BEHAVIOURS.get(request.path, (_not_found, True))
                if reads_body:
                    request.body, buffered = self._read_body(conn, request, buffered)
                else:
                    request.body_prefix, buffered = buffered, b""  # the behaviour reads the rest
                if not function(self, conn, request):
                    return
        except OSError:
            pass  # the client went away (reset, broken pipe) or a send timed out: this connection is done
        finally:
            with self._lock:
                self._open.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    @staticmethod
    def _read_head(conn, buffered):
        """(Request, bytes after its head), or (None, b"") when the client closed or sent junk."""
        while b"\r\n\r\n" not in buffered:
            if len(buffered) > MAX_REQUEST_HEAD:
                return None, b""
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buffered += chunk
        head, rest = buffered.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            return None, b""
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return Request(method, target, target.split("?", 1)[0], version, headers), rest

    @staticmethod
    def _read_body(conn, request, buffered):
        """(body, bytes after it): Content-Length bodies only, which is all cicada sends."""
        length = int(request.headers.get("content-length", "0") or 0)
        while len(buffered) < length:
            chunk = conn.recv(min(1 << 20, length - len(buffered)))
            if not chunk:
                raise ConnectionError("client closed in the middle of its request body")
            buffered += chunk
        return buffered[:length], buffered[length:]


def _not_found(server, conn, request):
    conn.sendall(_response(404, "Not Found", [("Content-Type", "text/plain")], b"no behaviour for this path"))
    return True


@contextlib.contextmanager
def start_misbehaving_server(tls=False, handshake="ok"):
    """A MisbehavingServer for the duration of a `with` block."""
    server = MisbehavingServer(tls=tls, handshake=handshake)
    try:
        yield server
    finally:
        server.stop()


def describe():
    """One line per path: what the server does there."""
    return "\n".join(f"{path:26} {' '.join(function.__doc__.split())}" for path, (function, _) in BEHAVIOURS.items())


if __name__ == "__main__":
    # Run it by hand: python3 tests/integration/misbehaving_server.py, then curl the URL.
    with start_misbehaving_server() as running:
        print(describe())
        print(f"listening on {running.url} for {HOLD_LIMIT * 10} s (Ctrl-C stops)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            time.sleep(HOLD_LIMIT * 10)
