"""Integration tests of the endpoints `cicada target` serves for the HTTP client's own tests
(docs/target.md, "Endpoints for the HTTP client's tests"): redirects, cookies, compression, basic
auth, added response headers and /anything, through real sockets."""

import base64
import gzip
import http.cookiejar
import json
import os
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import run_tests, start_target  # noqa: E402
# The request and JSON-answer helpers of the example APIs' tests serve here unchanged.
from test_target import read_raw_response  # noqa: E402
from test_target_apis import assert_error, json_answer, request  # noqa: E402

SOCKET_TIMEOUT = 10
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


def assert_redirect(response, body, location, status=302):
    """A redirect: the status, exactly one Location, and an empty body without a Content-Type."""
    assert response.status == status, (response.status, body)
    assert response.msg.get_all("Location") == [location], response.getheaders()
    assert response.getheader("Content-Length") == "0" and body == b"", (response.getheaders(), body)
    assert response.getheader("Content-Type") is None, response.getheaders()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def no_proxy_opener(*handlers):
    """urllib that ignores any proxy settings of the environment: the target is on loopback."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), *handlers)


# ----------------------------------------------------------------------------------------------
# Redirects


def test_redirect_chain():
    with start_target() as target:
        conn = target.connect()
        path = "/redirect/5"
        for hop in range(5, 0, -1):
            response, body = request(target, path, conn=conn)
            assert_redirect(response, body, f"/redirect/{hop - 1}")
            path = response.getheader("Location")
        assert json_answer(*request(target, path, conn=conn)) == {"redirected": True}
        conn.close()

        response, body = request(target, "/redirect/100")
        assert_redirect(response, body, "/redirect/99")
        # Any method; HEAD gets the same head.
        response, body = request(target, "/redirect/1", "POST", body=b"dropped")
        assert_redirect(response, body, "/redirect/0")
        response, body = request(target, "/redirect/2", "HEAD")
        assert_redirect(response, body, "/redirect/1")
        for bad in ("101", "1000000", "-1", "x", "", "1/2", "1.0"):
            assert_error(*request(target, f"/redirect/{bad}"), 400)


def test_redirect_chain_followed_by_urllib():
    """A stock client follows the whole chain and lands on the document."""
    with start_target() as target:
        with no_proxy_opener().open(f"{target.url}/redirect/3", timeout=SOCKET_TIMEOUT) as response:
            assert response.status == 200 and response.url == f"{target.url}/redirect/0", response.url
            assert json.loads(response.read()) == {"redirected": True}
        with no_proxy_opener().open(f"{target.url}/absolute-redirect/3", timeout=SOCKET_TIMEOUT) as response:
            assert response.url == f"{target.url}/absolute-redirect/0", response.url
            assert json.loads(response.read()) == {"redirected": True}


def test_absolute_redirect():
    with start_target() as target:
        host = f"{target.host}:{target.port}"
        path = "/absolute-redirect/3"
        for hop in range(3, 0, -1):
            response, body = request(target, path)
            location = f"http://{host}/absolute-redirect/{hop - 1}"
            assert_redirect(response, body, location)
            path = urllib.parse.urlsplit(location).path
        assert json_answer(*request(target, path)) == {"redirected": True}

        # The Location is built from the Host header as sent.
        for sent in ("example.test", "example.test:81", "[::1]:8080"):
            response, body = request(target, "/absolute-redirect/2", headers={"Host": sent})
            assert_redirect(response, body, f"http://{sent}/absolute-redirect/1")
        for bad_host in ("a/b", "user@host", "a b", "x?y", ""):
            assert_error(*request(target, "/absolute-redirect/1", headers={"Host": bad_host}), 400)
        assert_error(*request(target, "/absolute-redirect/101"), 400)
        assert_error(*request(target, "/absolute-redirect/abc"), 400)

        # HTTP/1.0 without a Host header: nothing to build the URL from.
        sock = socket.create_connection((target.host, target.port), timeout=SOCKET_TIMEOUT)
        sock.sendall(b"GET /absolute-redirect/1 HTTP/1.0\r\n\r\n")
        received = b""
        for _ in range(100):
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
        sock.close()
        assert received.startswith(b"HTTP/1.1 400 "), received
        assert b"\r\nLocation:" not in received, received


def test_redirect_to():
    with start_target() as target:
        conn = target.connect()
        url = "http://127.0.0.1:1/a path?q=1&r=%2F"
        encoded = urllib.parse.quote(url, safe="")
        response, body = request(target, f"/redirect-to?url={encoded}", conn=conn)
        assert_redirect(response, body, url, 302)
        for status in REDIRECT_STATUSES:
            for method in ("GET", "POST", "PUT", "DELETE"):
                # The body is read and dropped: the next request on the connection is unaffected.
                response, body = request(target, f"/redirect-to?status={status}&url=%2Fanything", method,
                                         body=b"x" * 100_000 if method != "GET" else None, conn=conn)
                assert_redirect(response, body, "/anything", status)
        response, body = request(target, "/redirect-to?url=/relative/path", conn=conn)
        assert_redirect(response, body, "/relative/path")
        conn.close()

        for bad in ("/redirect-to", "/redirect-to?url=", "/redirect-to?status=302",
                    "/redirect-to?url=/x&status=200", "/redirect-to?url=/x&status=304",
                    "/redirect-to?url=/x&status=abc", "/redirect-to?url=/x&status="):
            assert_error(*request(target, bad), 400)
        # Header injection through the URL is refused, not passed on.
        for injected in ("/x%0D%0ASet-Cookie:%20evil=1", "/x%0ASet-Cookie:%20evil=1", "/x%00"):
            response, body = request(target, f"/redirect-to?url={injected}")
            assert_error(response, body, 400)
            assert response.getheader("Set-Cookie") is None and response.getheader("Location") is None


def test_redirect_to_changes_method_as_clients_do():
    """With /anything behind it, a client's method handling across redirects is visible."""
    with start_target() as target:
        opener = no_proxy_opener()
        request_303 = urllib.request.Request(f"{target.url}/redirect-to?status=303&url=%2Fanything%2Fafter",
                                             data=b"payload", method="POST")
        with opener.open(request_303, timeout=SOCKET_TIMEOUT) as response:
            document = json.loads(response.read())
        assert document["method"] == "GET" and document["path"] == "/anything/after", document


def test_redirect_loop():
    with start_target() as target:
        conn = target.connect()
        path = "/redirect-loop"
        for _ in range(25):
            response, body = request(target, path, conn=conn)
            assert_redirect(response, body, "/redirect-loop")
            path = response.getheader("Location")
        conn.close()
        # A client with a redirect limit gives up.
        try:
            no_proxy_opener().open(f"{target.url}/redirect-loop", timeout=SOCKET_TIMEOUT)
        except urllib.error.HTTPError as error:
            assert error.code == 302, error.code
            error.close()
        else:
            raise AssertionError("urllib followed /redirect-loop to an end")


# ----------------------------------------------------------------------------------------------
# Cookies


def test_cookies_set():
    with start_target() as target:
        response, body = request(target, "/cookies/set?name=value&other=v2")
        assert_redirect(response, body, "/cookies")
        assert response.msg.get_all("Set-Cookie") == ["name=value; Path=/", "other=v2; Path=/"]

        response, body = request(target, "/cookies/set?sid=1&_attrs=Max-Age%3D60%3B%20HttpOnly&t=%21x")
        assert_redirect(response, body, "/cookies")
        assert response.msg.get_all("Set-Cookie") == ["sid=1; Path=/; Max-Age=60; HttpOnly",
                                                      "t=!x; Path=/; Max-Age=60; HttpOnly"]

        response, body = request(target, "/cookies/set")
        assert_redirect(response, body, "/cookies")
        assert response.getheader("Set-Cookie") is None

        for bad in ("a%20b=1", "=1", "a=b%20c", "a=b%3Bc", "a=%22q%22", "a=%0D%0AX:%201",
                    "a=1&_attrs=x%0D%0AX-Evil:%201", "a=1&_attrs=" + "x" * 1025,
                    "&".join(f"c{i}=1" for i in range(51))):
            response, body = request(target, f"/cookies/set?{bad}")
            assert_error(response, body, 400)
            assert response.getheader("Set-Cookie") is None and response.getheader("X-Evil") is None
        response, body = request(target, "/cookies/set?" + "&".join(f"c{i}=1" for i in range(50)))
        assert response.status == 302 and len(response.msg.get_all("Set-Cookie")) == 50


def test_cookies_read():
    with start_target() as target:
        assert json_answer(*request(target, "/cookies")) == {"cookies": {}}
        document = json_answer(*request(target, "/cookies", headers={"Cookie": "name=value; other=v2"}))
        assert document == {"cookies": {"name": "value", "other": "v2"}}, document
        # Every Cookie header counts; the first of a repeated name wins; values are as sent.
        conn = target.connect()
        conn.putrequest("GET", "/cookies")
        conn.putheader("Cookie", "a=1; b=\"q w\"")
        conn.putheader("Cookie", "a=2;c=3;flag; e=")
        conn.endheaders()
        response = conn.getresponse()
        document = json_answer(response, response.read())
        conn.close()
        assert document == {"cookies": {"a": "1", "b": "\"q w\"", "c": "3", "e": ""}}, document


def test_cookies_delete():
    with start_target() as target:
        response, body = request(target, "/cookies/delete?name&other=ignored")
        assert_redirect(response, body, "/cookies")
        assert response.msg.get_all("Set-Cookie") == ["name=; Max-Age=0; Path=/", "other=; Max-Age=0; Path=/"]
        for bad in ("a%0Ab", "=x", "a%20b"):
            assert_error(*request(target, f"/cookies/delete?{bad}"), 400)


def test_cookies_round_trip_with_a_cookie_jar():
    """A stock client stores what /cookies/set sets, sends it back, and drops what is deleted."""
    with start_target() as target:
        jar = http.cookiejar.CookieJar()
        opener = no_proxy_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(f"{target.url}/cookies/set?sid=abc&theme=dark", timeout=SOCKET_TIMEOUT) as response:
            assert response.url == f"{target.url}/cookies"
            assert json.loads(response.read()) == {"cookies": {"sid": "abc", "theme": "dark"}}
        with opener.open(f"{target.url}/cookies/delete?sid", timeout=SOCKET_TIMEOUT) as response:
            assert json.loads(response.read()) == {"cookies": {"theme": "dark"}}
        assert sorted(cookie.name for cookie in jar) == ["theme"]


# ----------------------------------------------------------------------------------------------
# Compression


def test_gzip_and_deflate():
    with start_target() as target:
        items = json_answer(*request(target, "/items"))
        for path, encoding, decode, flag in (("/gzip", "gzip", gzip.decompress, "gzipped"),
                                             ("/deflate", "deflate", zlib.decompress, "deflated")):
            # Whatever the request accepts: http.client says "identity" unless told otherwise.
            for accept in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "br"},
                           {"Accept-Encoding": "gzip, deflate"}):
                response, body = request(target, path, headers=accept)
                assert response.status == 200, (path, response.status)
                assert response.getheader("Content-Encoding") == encoding, response.getheaders()
                assert response.getheader("Content-Type") == "application/json"
                assert response.getheader("Content-Length") == str(len(body))
                document = json.loads(decode(body))
                assert document == {flag: True, "encoding": encoding, "items": items}, document
                assert len(body) < len(json.dumps(document)) / 2, "not compressed"
            # The same bytes every time, and HEAD announces their length.
            assert request(target, path)[1] == body
            response, head_body = request(target, path, "HEAD")
            assert head_body == b"" and response.getheader("Content-Length") == str(len(body))
        # Each is in its own format only.
        gzip_body = request(target, "/gzip")[1]
        deflate_body = request(target, "/deflate")[1]
        assert gzip_body[:2] == b"\x1f\x8b"
        assert json.loads(zlib.decompress(gzip_body, 31))["gzipped"] is True  # deflateInit2's windowBits 31
        for wrong in (lambda: zlib.decompress(gzip_body), lambda: gzip.decompress(deflate_body)):
            try:
                wrong()
            except (OSError, zlib.error):
                pass
            else:
                raise AssertionError("decoded in the wrong format")


def test_gzip_corrupt():
    with start_target() as target:
        response, body = request(target, "/gzip/corrupt")
        assert response.status == 200 and response.getheader("Content-Encoding") == "gzip"
        assert response.getheader("Content-Length") == str(len(body)) and len(body) > 10
        assert body[:3] == b"\x1f\x8b\x08", body  # a gzip header: the failure is in the data
        for decode in (gzip.decompress, lambda data: zlib.decompressobj(31).decompress(data)):
            try:
                decode(body)
            except (OSError, EOFError, zlib.error):
                pass
            else:
                raise AssertionError("the corrupt body decoded")


# ----------------------------------------------------------------------------------------------
# Basic auth


def assert_unauthorized(response, body):
    assert_error(response, body, 401)
    assert response.getheader("WWW-Authenticate") == 'Basic realm="cicada"', response.getheaders()


def test_basic_auth():
    with start_target() as target:
        document = json_answer(*request(target, "/basic-auth/user/passwd", headers=basic("user", "passwd")))
        assert document == {"authenticated": True, "user": "user"}, document
        # Path segments are URL-decoded; the password is all after the first '/'.
        document = json_answer(*request(target, "/basic-auth/J%C3%BCrgen%20S/p%3Aw/rd", headers=basic("J\u00fcrgen S", "p:w/rd")))
        assert document == {"authenticated": True, "user": "J\u00fcrgen S"}, document
        assert json_answer(*request(target, "/basic-auth//", headers=basic("", "")))["user"] == ""
        # The scheme in any case, padding optional.
        assert json_answer(*request(target, "/basic-auth/u/p", headers={"Authorization": "basic dTpw"}))["user"] == "u"

        for headers in ({}, basic("user", "wrong"), basic("other", "passwd"), basic("user", "passwd "),
                        {"Authorization": "Bearer dXNlcjpwYXNzd2Q="}, {"Authorization": "Basic"},
                        {"Authorization": "Basic !!!!"}, {"Authorization": "dXNlcjpwYXNzd2Q="}):
            assert_unauthorized(*request(target, "/basic-auth/user/passwd", headers=headers))
        for method in ("POST", "HEAD"):
            response, body = request(target, "/basic-auth/user/passwd", method)
            assert response.status == 401 and response.getheader("WWW-Authenticate") == 'Basic realm="cicada"'

        for bad in ("/basic-auth/user", "/basic-auth/", "/basic-auth/a%3Ab/p"):
            assert_error(*request(target, bad, headers=basic("user", "passwd")), 400)


# ----------------------------------------------------------------------------------------------
# Added response headers


def test_response_headers():
    with start_target() as target:
        response, body = request(target, "/response-headers?X-Test=1&Set-Cookie=a%3D1&Set-Cookie=b%3D2%3B%20Path%3D%2F"
                                         "&X-Spaced=a+b%20c&X-Empty")
        document = json_answer(response, body)
        assert response.msg.get_all("X-Test") == ["1"]
        assert response.msg.get_all("Set-Cookie") == ["a=1", "b=2; Path=/"], response.getheaders()
        assert response.getheader("X-Spaced") == "a b c" and response.getheader("X-Empty") == ""
        assert document == [["X-Test", "1"], ["Set-Cookie", "a=1"], ["Set-Cookie", "b=2; Path=/"],
                            ["X-Spaced", "a b c"], ["X-Empty", ""]], document

        # A Content-Type given replaces the target's own.
        response, body = request(target, "/response-headers?Content-Type=text%2Fplain")
        assert response.status == 200 and response.msg.get_all("Content-Type") == ["text/plain"]
        assert json.loads(body) == [["Content-Type", "text/plain"]]
        # Even a Content-Encoding: a way to test how a client handles a mislabelled body.
        response, body = request(target, "/response-headers?Content-Encoding=gzip")
        assert response.getheader("Content-Encoding") == "gzip" and body == b'[["Content-Encoding","gzip"]]'
        assert json_answer(*request(target, "/response-headers")) == []

        for bad in ("X-A=1%0D%0AX-Evil:%202", "X-A=%0AX-Evil:%202", "X-A=%00", "X%20A=1", "X:A=1", "=1", "X%0D%0A=1",
                    "Content-Length=5", "Transfer-Encoding=chunked", "connection=close",
                    "&".join(f"X-{i}=1" for i in range(101))):
            response, body = request(target, f"/response-headers?{bad}")
            assert_error(response, body, 400)
            assert response.getheader("X-Evil") is None and response.getheader("X-A") is None, bad


# ----------------------------------------------------------------------------------------------
# /anything


def test_anything_echoes_like_echo():
    with start_target() as target:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            for path in ("/anything", "/anything/a/b%20c"):
                body = f"body of {method}".encode() if method != "GET" else None
                document = json_answer(*request(target, f"{path}?x=1&y=a+b", method, body=body,
                                                headers={"X-Trace": "7"}))
                assert document["method"] == method and document["path"] == path, document
                assert document["query"] == "x=1&y=a+b" and document["args"] == {"x": "1", "y": "a b"}, document
                assert document["headers"]["x-trace"] == "7", document
                assert document["body"] == (body or b"").decode(), document
                # The same document /echo gives, but for the path.
                echoed = json_answer(*request(target, "/echo?x=1&y=a+b", method, body=body, headers={"X-Trace": "7"}))
                assert {**document, "path": "/echo"} == echoed, (document, echoed)


# ----------------------------------------------------------------------------------------------
# All of them on one connection


def test_pipelined_session():
    """Every endpoint, pipelined on one keep-alive connection in one write: the redirects' empty
    bodies and the binary ones must be framed so that each answer ends where the next begins."""
    steps = [
        ("GET", "/redirect/2", {}, 302),
        ("GET", "/absolute-redirect/1", {}, 302),
        ("POST", "/redirect-to?url=%2Fx&status=307", {}, 307),
        ("GET", "/redirect-loop", {}, 302),
        ("GET", "/cookies/set?a=1", {}, 302),
        ("GET", "/cookies", {"Cookie": "a=1"}, 200),
        ("GET", "/cookies/delete?a", {}, 302),
        ("GET", "/gzip", {}, 200),
        ("HEAD", "/deflate", {}, 200),
        ("GET", "/deflate", {}, 200),
        ("GET", "/gzip/corrupt", {}, 200),
        ("GET", "/basic-auth/u/p", {}, 401),
        ("GET", "/basic-auth/u/p", basic("u", "p"), 200),
        ("GET", "/response-headers?X-A=1", {}, 200),
        ("GET", "/response-headers?X-A=%0A", {}, 400),
        ("PUT", "/anything/x", {}, 200),
        ("GET", "/redirect/101", {}, 400),
    ]
    with start_target() as target:
        sock = socket.create_connection((target.host, target.port), timeout=SOCKET_TIMEOUT)
        stream = sock.makefile("rb")
        pipeline = b""
        for method, path, headers, _ in steps:
            body = b"{}" if method in ("POST", "PUT") else b""
            lines = [f"{method} {path} HTTP/1.1", "Host: t", *(f"{k}: {v}" for k, v in headers.items())]
            if body:
                lines.append(f"Content-Length: {len(body)}")
            pipeline += ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        sock.sendall(pipeline)
        answers = [read_raw_response(stream, head_request=method == "HEAD") for method, *_ in steps]
        for (method, path, _, status), (got, headers, body, _) in zip(steps, answers):
            assert got == status, (method, path, got, body)
            assert "connection" not in headers, (method, path, headers)
        bodies = {path: body for (method, path, _, _), (_, _, body, _) in zip(steps, answers) if method == "GET"}
        assert json.loads(gzip.decompress(bodies["/gzip"]))["gzipped"] is True
        assert json.loads(zlib.decompress(bodies["/deflate"]))["deflated"] is True
        assert json.loads(bodies["/cookies"]) == {"cookies": {"a": "1"}}
        # Still open: one more request, answered.
        sock.sendall(b"GET /redirect/0 HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_raw_response(stream)[2] == b'{"redirected":true}'
        sock.close()


if __name__ == "__main__":
    run_tests(globals())
