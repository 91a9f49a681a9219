"""Integration tests of `cicada target`, the built-in HTTP/1.1 server, through real sockets."""

import http.client
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import run_cicada, run_tests, start_target  # noqa: E402

ALPHABET = b"abcdefghijklmnopqrstuvwxyz"
SOCKET_TIMEOUT = 10


def generated(n, offset=0):
    """The bytes /bytes/{n} and /chunked/{n} must produce."""
    repeats = (offset + n) // len(ALPHABET) + 1
    return (ALPHABET * repeats)[offset : offset + n]


def get(target, path, method="GET", body=None, headers=None):
    """One request on a fresh connection; returns (response, body bytes)."""
    conn = target.connect()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


def raw_connection(target):
    sock = socket.create_connection((target.host, target.port), timeout=SOCKET_TIMEOUT)
    return sock, sock.makefile("rb")


def read_raw_response(stream, head_request=False):
    """Reads one response from a socket file; returns (status, headers dict lower-cased, body,
    chunk sizes or None). Parses framing by hand so that the tests see exactly what was sent."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), f"bad status line {status_line!r}"
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = stream.readline()
        assert line.endswith(b"\r\n"), f"truncated header line {line!r}"
        if line == b"\r\n":
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_request or status in (204, 304) or 100 <= status < 200:
        return status, headers, b"", None
    if headers.get("transfer-encoding") == "chunked":
        body, sizes = b"", []
        while True:
            size = int(stream.readline().strip(), 16)
            sizes.append(size)
            if size == 0:
                assert stream.readline() == b"\r\n"
                return status, headers, body, sizes
            body += stream.read(size)
            assert stream.read(2) == b"\r\n"
    length = int(headers["content-length"])
    body = stream.read(length)
    assert len(body) == length, f"short body: {len(body)} of {length}"
    return status, headers, body, None


def assert_closed_by_server(sock):
    """The server must close its side: recv sees EOF (or a reset) within the socket timeout."""
    try:
        assert sock.recv(1) == b""
    except ConnectionResetError:
        pass


def assert_json_error(response, body, status):
    assert response.status == status, (response.status, body)
    assert response.getheader("Content-Type") == "application/json"
    document = json.loads(body)
    assert isinstance(document.get("error"), str) and document["error"], document


# ----------------------------------------------------------------------------------------------
# Command line


def test_help_and_bad_flags():
    result = run_cicada(["target", "--help"], timeout=10)
    assert result.returncode == 0, result
    assert "usage: cicada target" in result.stdout and "--threads" in result.stdout
    for args in (["--bogus"], ["--port", "70000"], ["--port", "x"], ["--threads", "0"], ["--port"], ["stray"]):
        result = run_cicada(["target", *args], timeout=10)
        assert result.returncode == 2, (args, result)
        assert result.stderr.strip() and not result.stdout, (args, result)


def test_port_in_use_is_an_error():
    with start_target() as target:
        result = run_cicada(["target", "--port", target.port], timeout=10)
        assert result.returncode == 1, result
        assert "cannot listen" in result.stderr, result.stderr
        assert get(target, "/")[0].status == 200


def test_sigint_exits_cleanly():
    with start_target(stop_signal=signal.SIGINT) as target:
        assert target.url == f"http://127.0.0.1:{target.port}"
        assert get(target, "/")[0].status == 200
    # start_target asserts the exit code 0 after the signal.


def test_repeated_signals_still_exit_cleanly():
    with start_target(threads=2) as target:
        assert get(target, "/")[0].status == 200
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGTERM):
            target.process.send_signal(sig)
    # start_target asserts the exit code 0.


# ----------------------------------------------------------------------------------------------
# Endpoints


def test_root():
    with start_target() as target:
        response, body = get(target, "/")
        assert response.status == 200 and response.reason == "OK"
        assert body == b"cicada target\n"
        assert response.getheader("Content-Length") == "14"
        assert response.getheader("Content-Type").startswith("text/plain")
        assert response.getheader("Server") == "cicada-target"
        assert response.getheader("Date") is None


def test_json():
    with start_target() as target:
        response, body = get(target, "/json")
        assert response.status == 200
        assert response.getheader("Content-Type") == "application/json"
        assert int(response.getheader("Content-Length")) == len(body)
        document = json.loads(body)
        assert isinstance(document, dict)
        kinds = {type(value) for value in document.values()}
        assert {str, int, list, dict} <= kinds, document
        assert document["name"] == "cicada target"


def test_echo():
    with start_target() as target:
        body = 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f snow \u2603 e \u00e9'.encode()
        headers = {"X-Custom": "Value With Spaces", "X-Quote": 'a"b', "Content-Type": "text/plain"}
        response, raw = get(target, "/echo?a=1&b=x%20y+z&a=2&flag&=v&&k%C3%A9=%E2%98%83", "PUT", body, headers)
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        echo = json.loads(raw)
        assert echo["method"] == "PUT"
        assert echo["path"] == "/echo"
        assert echo["query"] == "a=1&b=x%20y+z&a=2&flag&=v&&k%C3%A9=%E2%98%83"
        assert echo["args"] == {"a": "2", "b": "x y z", "flag": "", "": "v", "k\u00e9": "\u2603"}, echo["args"]
        assert echo["headers"]["x-custom"] == "Value With Spaces"
        assert echo["headers"]["x-quote"] == 'a"b'
        assert echo["headers"]["content-length"] == str(len(body))
        assert echo["headers"]["host"] == f"{target.host}:{target.port}"
        assert all(name == name.lower() for name in echo["headers"])
        assert echo["body"] == body.decode()
        # Control characters must arrive escaped, non-ASCII as raw UTF-8.
        assert b"\\u0007" in raw and b"\\n" in raw and "\u2603".encode() in raw

        response, raw = get(target, "/echo")
        echo = json.loads(raw)
        assert (echo["method"], echo["query"], echo["args"], echo["body"]) == ("GET", "", {}, "")

        for method in ("DELETE", "PATCH", "OPTIONS"):
            response, raw = get(target, "/echo", method)
            assert response.status == 200 and json.loads(raw)["method"] == method


def test_echo_chunked_request_and_repeated_headers():
    with start_target() as target:
        conn = target.connect()
        conn.putrequest("POST", "/echo")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.putheader("X-Twice", "one")
        conn.putheader("X-Twice", "two")
        conn.endheaders()
        for piece in (b"hello ", b"chunked ", b"world"):
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        echo = json.loads(response.read())
        conn.close()
        assert response.status == 200
        assert echo["body"] == "hello chunked world"
        assert echo["headers"]["x-twice"] == "one, two"
        assert echo["headers"]["transfer-encoding"] == "chunked"


def test_status():
    reasons = {200: "OK", 201: "Created", 301: "Moved Permanently", 404: "Not Found", 418: "I'm a teapot",
               429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
    with start_target() as target:
        for code, reason in reasons.items():
            response, body = get(target, f"/status/{code}")
            assert response.status == code and response.reason == reason, (code, response.reason)
            assert body == f"{code} {reason}\n".encode(), body
            assert response.getheader("Content-Length") == str(len(body))
        response, body = get(target, "/status/599")
        assert response.status == 599 and body.startswith(b"599")
        response, body = get(target, "/status/204")
        assert response.status == 204 and body == b"" and response.getheader("Content-Length") is None
        for bad in ("100", "199", "99", "600", "1000", "abc", "", "-200", "20x", "99999999999999999999999"):
            response, body = get(target, f"/status/{bad}")
            assert_json_error(response, body, 400)


def test_delay():
    with start_target() as target:
        started = time.monotonic()
        response, body = get(target, "/delay/150")
        elapsed = time.monotonic() - started
        assert response.status == 200 and json.loads(body) == {"delay_ms": 150}
        assert 0.15 <= elapsed < 5, elapsed
        response, body = get(target, "/delay/0")
        assert json.loads(body) == {"delay_ms": 0}
        for bad in ("60001", "-1", "x", ""):
            assert_json_error(*get(target, f"/delay/{bad}"), 400)


def test_delay_does_not_block_other_connections():
    with start_target() as target:
        slow = target.connect()
        slow.request("GET", "/delay/1000")
        started = time.monotonic()
        for _ in range(5):
            response, body = get(target, "/")
            assert response.status == 200
        assert time.monotonic() - started < 0.8, "other connections waited for the delay"
        response = slow.getresponse()
        assert json.loads(response.read()) == {"delay_ms": 1000}
        assert time.monotonic() - started >= 0.9
        slow.close()


def test_bytes():
    with start_target() as target:
        for n in (0, 1, 26, 100, 70000, 1_000_000):
            response, body = get(target, f"/bytes/{n}")
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/octet-stream"
            assert response.getheader("Content-Length") == str(n)
            assert body == generated(n), n
        # The largest size, streamed: check it all arrives, in the right order.
        n = 64 * 1024 * 1024
        response, body = get(target, f"/bytes/{n}")
        assert response.status == 200 and len(body) == n and body == generated(n)
        for bad in (str(n + 1), "-5", "abc"):
            assert_json_error(*get(target, f"/bytes/{bad}"), 400)


def test_chunked():
    with start_target() as target:
        for n in (0, 1, 4096, 4097, 10000, 300_000):
            sock, stream = raw_connection(target)
            sock.sendall(b"GET /chunked/%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
            status, headers, body, sizes = read_raw_response(stream)
            sock.close()
            assert status == 200 and headers["transfer-encoding"] == "chunked"
            assert "content-length" not in headers
            assert body == generated(n)
            assert sizes[-1] == 0 and all(0 < size <= 4096 for size in sizes[:-1]), sizes[:5]
        # http.client decodes it transparently too.
        response, body = get(target, "/chunked/12345")
        assert response.status == 200 and body == generated(12345)
        assert_json_error(*get(target, "/chunked/67108865"), 400)


def test_login():
    with start_target() as target:
        response, body = get(target, "/login", "POST", json.dumps({"user": "demo", "password": "pw"}),
                             {"Content-Type": "application/json"})
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        assert json.loads(body) == {"token": "token-demo"}
        tricky = 'a"b\\c\u00e9\u2603\U0001F600'
        response, body = get(target, "/login", "POST", json.dumps({"x": [1, {"y": None}], "user": tricky}))
        assert response.status == 200 and json.loads(body) == {"token": "token-" + tricky}
        for bad in ('{"password":"x"}', '{"user":1}', '{"user":null}', "{", "", "[]", '{"user":"a"} x', "not json",
                    '{"user":"a",}', '{"user":"\\ud800"}'):
            assert_json_error(*get(target, "/login", "POST", bad), 400)
        response, body = get(target, "/login")
        assert_json_error(response, body, 405)
        assert response.getheader("Allow") == "POST"


def test_items():
    with start_target() as target:
        response, body = get(target, "/items")
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        items = json.loads(body)
        assert [item["id"] for item in items] == list(range(1, 101))
        for item in items:
            assert item["name"] == f"item {item['id']}"
            assert isinstance(item["price"], (int, float)) and item["price"] > 0
        for item_id in (1, 42, 100):
            response, body = get(target, f"/items/{item_id}")
            assert response.status == 200 and json.loads(body) == items[item_id - 1]
        for bad in ("0", "101", "abc", "-1", ""):
            response, body = get(target, f"/items/{bad}")
            assert_json_error(response, body, 404)


def test_not_found():
    with start_target() as target:
        for path in ("/nope", "/json/", "/items/1/x", "/ROOT"):
            response, body = get(target, path)
            assert response.status == 404 and json.loads(body) == {"error": "not found"}, path


def test_head_sends_no_body():
    with start_target() as target:
        sock, stream = raw_connection(target)
        # A body after the HEAD response would be read as the start of the second response.
        sock.sendall(b"HEAD /bytes/1000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"HEAD /chunked/1000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"HEAD /json HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, _, _ = read_raw_response(stream, head_request=True)
        assert status == 200 and headers["content-length"] == "1000"
        status, headers, _, _ = read_raw_response(stream, head_request=True)
        assert status == 200 and headers["transfer-encoding"] == "chunked"
        status, headers, _, _ = read_raw_response(stream, head_request=True)
        assert status == 200 and int(headers["content-length"]) > 0
        status, _, body, _ = read_raw_response(stream)
        assert status == 200 and body == b"cicada target\n"
        sock.close()


# ----------------------------------------------------------------------------------------------
# Connection behaviour


def test_keep_alive_reuses_one_connection():
    with start_target() as target:
        conn = target.connect()
        conn.request("GET", "/")
        conn.getresponse().read()
        local_address = conn.sock.getsockname()
        paths = ["/", "/json", "/items/7", "/status/201", "/echo?x=1", "/nope", "/bytes/5000", "/chunked/5000"]
        for i in range(200):
            path = paths[i % len(paths)]
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status in (200, 201, 404), (path, response.status)
            assert response.getheader("Connection") is None
            assert conn.sock is not None and conn.sock.getsockname() == local_address, "connection was reopened"
        conn.close()


def test_http10_closes_unless_keep_alive():
    with start_target() as target:
        sock, stream = raw_connection(target)
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        status, headers, body, _ = read_raw_response(stream)
        assert status == 200 and body == b"cicada target\n"
        assert headers.get("connection") == "close"
        assert_closed_by_server(sock)
        sock.close()

        sock, stream = raw_connection(target)
        for _ in range(3):
            sock.sendall(b"GET /json HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            status, headers, body, _ = read_raw_response(stream)
            assert status == 200 and headers.get("connection") == "keep-alive"
            json.loads(body)
        # No chunked encoding for HTTP/1.0: the same bytes come with a length.
        sock.sendall(b"GET /chunked/5000 HTTP/1.0\r\n\r\n")
        status, headers, body, _ = read_raw_response(stream)
        assert "transfer-encoding" not in headers and body == generated(5000)
        assert_closed_by_server(sock)
        sock.close()


def test_pipelined_requests_answered_in_order():
    with start_target() as target:
        sock, stream = raw_connection(target)
        started = time.monotonic()
        sock.sendall(b"GET /delay/300 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"POST /echo?n=3 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                     b"GET /items/5 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /delay/50 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /chunked/9000 HTTP/1.1\r\nHost: t\r\n\r\n"
                     b"GET /status/404 HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body, _ = read_raw_response(stream)
        assert status == 200 and json.loads(body) == {"delay_ms": 300}
        assert time.monotonic() - started >= 0.3
        assert read_raw_response(stream)[2] == b"cicada target\n"
        echo = json.loads(read_raw_response(stream)[2])
        assert echo["body"] == "hello" and echo["args"] == {"n": "3"}
        assert json.loads(read_raw_response(stream)[2])["id"] == 5
        assert json.loads(read_raw_response(stream)[2]) == {"delay_ms": 50}
        assert read_raw_response(stream)[2] == generated(9000)
        assert read_raw_response(stream)[0] == 404
        sock.close()


def test_requests_split_across_reads():
    """Header names, values and the target split over many reads must be reassembled exactly."""
    request = (b"POST /echo?key=split%20value HTTP/1.1\r\nHost: t\r\nX-Long-Header-Name: some value here\r\n"
               b"Empty:\r\nContent-Length: 11\r\n\r\nhello world")
    with start_target() as target:
        sock, stream = raw_connection(target)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for start in range(0, len(request), 3):
            sock.sendall(request[start : start + 3])
            time.sleep(0.002)
        status, _, body, _ = read_raw_response(stream)
        echo = json.loads(body)
        assert status == 200
        assert echo["args"] == {"key": "split value"}
        assert echo["headers"] == {"host": "t", "x-long-header-name": "some value here", "empty": "",
                                   "content-length": "11"}, echo["headers"]
        assert echo["body"] == "hello world"
        sock.close()


def test_pipelined_large_responses_with_slow_reader():
    with start_target() as target:
        sock, stream = raw_connection(target)
        count, size = 20, 1_000_000
        sock.sendall(b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: t\r\n\r\n" % size for _ in range(count)))
        time.sleep(0.3)  # let the server fill the socket and hit its output limit
        for _ in range(count):
            status, _, body, _ = read_raw_response(stream)
            assert status == 200 and body == generated(size)
        sock.close()


def test_close_endpoint_closes_connection():
    with start_target() as target:
        response, body = get(target, "/close")
        assert response.status == 200 and response.getheader("Connection") == "close"
        sock, stream = raw_connection(target)
        # The request after /close must be ignored, and must not turn the close into a reset.
        sock.sendall(b"GET /close HTTP/1.1\r\nHost: t\r\n\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body, _ = read_raw_response(stream)
        assert status == 200 and headers["connection"] == "close" and body
        assert stream.read() == b""
        sock.close()

        sock, stream = raw_connection(target)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, headers, _, _ = read_raw_response(stream)
        assert status == 200 and headers["connection"] == "close"
        assert_closed_by_server(sock)
        sock.close()


def test_malformed_requests_get_400_and_close():
    cases = [
        b"THIS IS NOT HTTP\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc",
        b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"\x00\x01\x02\xff\r\n\r\n",
    ]
    with start_target() as target:
        for request in cases:
            sock, stream = raw_connection(target)
            sock.sendall(request)
            status, headers, body, _ = read_raw_response(stream)
            assert status == 400, (request, status)
            assert headers["connection"] == "close"
            assert json.loads(body)["error"]
            assert_closed_by_server(sock)
            sock.close()
        assert get(target, "/")[0].status == 200


def test_oversized_requests():
    with start_target() as target:
        sock, stream = raw_connection(target)
        sock.sendall(b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 1000) for i in range(80)) + b"\r\n")
        status, headers, _, _ = read_raw_response(stream)
        assert status == 431 and headers["connection"] == "close"
        sock.close()

        sock, stream = raw_connection(target)
        sock.sendall(b"GET /" + b"a" * 40000 + b" HTTP/1.1\r\n\r\n")
        assert read_raw_response(stream)[0] == 414
        sock.close()

        # A kept body (/echo) is capped at 8 MiB; others are read and dropped whatever the size.
        conn = target.connect(timeout=30)
        big = b"x" * (9 * 1024 * 1024)
        conn.request("POST", "/echo", body=big)
        response = conn.getresponse()
        assert_json_error(response, response.read(), 413)
        conn.request("POST", "/", body=big)
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b"cicada target\n"
        body = b"y" * (1024 * 1024)
        conn.request("POST", "/echo", body=body)
        response = conn.getresponse()
        assert json.loads(response.read())["body"] == body.decode()
        conn.close()


def test_expect_100_continue():
    with start_target() as target:
        sock, stream = raw_connection(target)
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        status, _, _, _ = read_raw_response(stream)
        assert status == 100
        sock.sendall(b"ping")
        status, _, body, _ = read_raw_response(stream)
        assert status == 200 and json.loads(body)["body"] == "ping"
        sock.close()


def reset(sock):
    """Closes with RST instead of FIN, as a crashing client would."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_abrupt_client_resets_do_not_hurt_the_server():
    with start_target() as target:
        for request in (b"GET /json HTTP/1.1\r\nHo", b"POST /echo HTTP/1.1\r\nContent-Length: 100000\r\n\r\nabc",
                        b"GET /delay/200 HTTP/1.1\r\n\r\n", b""):
            sock, _ = raw_connection(target)
            if request:
                sock.sendall(request)
            reset(sock)
        # Reset in the middle of a large streamed response, and with responses still unread.
        sock, stream = raw_connection(target)
        sock.sendall(b"GET /bytes/67108864 HTTP/1.1\r\nHost: t\r\n\r\n" * 3)
        stream.read(100_000)
        reset(sock)
        sock, _ = raw_connection(target)
        sock.sendall(b"GET /chunked/10000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.recv(1000)
        reset(sock)
        # Half-closing after the request is fine too: the answer still comes.
        sock, stream = raw_connection(target)
        sock.sendall(b"GET /delay/100 HTTP/1.1\r\nHost: t\r\n\r\nGET /items/1 HTTP/1.1\r\nHost: t\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        assert json.loads(read_raw_response(stream)[2]) == {"delay_ms": 100}
        assert json.loads(read_raw_response(stream)[2])["id"] == 1
        assert_closed_by_server(sock)
        sock.close()
        time.sleep(0.3)  # let the delayed timer of the reset connection fire
        assert target.process.poll() is None
        response, body = get(target, "/")
        assert response.status == 200 and body == b"cicada target\n"


def test_garbage_input():
    """Random bytes and mangled requests: every connection ends with a 400 or a close, never a crash."""
    valid = (b"POST /echo?a=1 HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"5\r\nhello\r\n0\r\n\r\nGET /items/3 HTTP/1.1\r\n\r\n")
    rng = random.Random(1234)
    with start_target() as target:
        for i in range(150):
            if i % 3 == 0:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
            else:
                data = bytearray(valid)
                for _ in range(rng.randrange(1, 6)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
                data = bytes(data[: rng.randrange(1, len(data) + 1)])
            sock, stream = raw_connection(target)
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            # The server answers what it could parse, then closes: reading ends at EOF, well
            # within the socket timeout.
            while stream.read(65536):
                pass
            sock.close()
        assert target.process.poll() is None
        assert get(target, "/")[0].status == 200


def test_shutdown_with_open_connections():
    """SIGTERM while connections are busy in every way: the exit must still be clean (and, in the
    sanitizer build, free of leaks)."""
    with start_target() as target:
        busy = []
        idle, _ = raw_connection(target)
        idle.sendall(b"GET / HTTP/1.1\r\n\r\n")
        idle.recv(1000)
        busy.append(idle)
        partial, _ = raw_connection(target)
        partial.sendall(b"GET /json HTTP/1.1\r\nHost")
        busy.append(partial)
        delayed, _ = raw_connection(target)
        delayed.sendall(b"GET /delay/60000 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        busy.append(delayed)
        streaming, _ = raw_connection(target)
        streaming.sendall(b"GET /bytes/67108864 HTTP/1.1\r\n\r\n" * 2)
        busy.append(streaming)
        lingering, _ = raw_connection(target)
        lingering.sendall(b"GET /close HTTP/1.1\r\n\r\n")
        busy.append(lingering)
        time.sleep(0.3)
    for sock in busy:
        sock.close()


def run_clients(target, clients, requests_per_client):
    """Many connections at once, each sending several requests; returns the errors seen."""
    errors = []

    def client(index):
        try:
            conn = target.connect()
            for i in range(requests_per_client):
                item_id = (index * requests_per_client + i) % 100 + 1
                conn.request("GET", f"/items/{item_id}")
                response = conn.getresponse()
                document = json.loads(response.read())
                assert response.status == 200 and document["id"] == item_id
            conn.close()
        except Exception as error:  # collected and reported by the caller's assert
            errors.append(f"client {index}: {error!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(timeout=max(0.1, deadline - time.monotonic()))
    errors.extend(f"thread {i} still running" for i, thread in enumerate(threads) if thread.is_alive())
    return errors


def test_concurrent_connections():
    with start_target() as target:
        errors = run_clients(target, clients=50, requests_per_client=20)
        assert not errors, errors[:5]


def test_two_threads():
    with start_target(threads=2) as target:
        assert target.url == f"http://127.0.0.1:{target.port}"
        errors = run_clients(target, clients=40, requests_per_client=10)
        assert not errors, errors[:5]
        response, body = get(target, "/delay/100")
        assert json.loads(body) == {"delay_ms": 100}


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_ipv6():
    if not ipv6_loopback_available():
        print("  (skipped: no IPv6 loopback here)")
        return
    with start_target(host="::1") as target:
        assert target.url == f"http://[::1]:{target.port}"
        response, body = get(target, "/json")
        assert response.status == 200 and json.loads(body)["name"] == "cicada target"
        echo = json.loads(get(target, "/echo")[1])
        assert echo["headers"]["host"] == f"[::1]:{target.port}", echo["headers"]


if __name__ == "__main__":
    run_tests(globals())
