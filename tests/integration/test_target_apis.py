"""Integration tests of the APIs `cicada target` serves for the example scenarios (docs/target.md,
"APIs for the examples"): key validation, movies, the monitoring agent, the API-key proxy and the
job API, through real sockets."""

import json
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import run_tests, start_target  # noqa: E402

SOCKET_TIMEOUT = 10
JOB_STATUSES = {"queued", "running", "succeeded", "failed"}


def request(target, path, method="GET", body=None, headers=None, conn=None):
    """One request, on `conn` when given, else on a fresh connection; returns (response, body bytes)."""
    own = conn is None
    conn = conn or target.connect()
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response, response.read()
    finally:
        if own:
            conn.close()


def json_answer(response, body, status=200):
    """Checks the status and the JSON framing of an answer; returns the decoded document."""
    assert response.status == status, (response.status, body)
    assert response.getheader("Content-Type") == "application/json", response.getheaders()
    assert response.getheader("Content-Length") == str(len(body)), response.getheaders()
    return json.loads(body)


def get_json(target, path, status=200, **kwargs):
    return json_answer(*request(target, path, **kwargs), status=status)


def assert_error(response, body, status):
    document = json_answer(response, body, status)
    assert list(document) == ["error"] and isinstance(document["error"], str) and document["error"], document
    return document


def assert_method_not_allowed(target, path, method, allow):
    response, body = request(target, path, method)
    assert response.status == 405, (path, method, response.status)
    assert response.getheader("Allow") == allow, (path, method, response.getheader("Allow"))
    if method != "HEAD":
        assert_error(response, body, 405)


# ----------------------------------------------------------------------------------------------
# Key validation


def test_validate_key():
    with start_target() as target:
        for key in ("sk-abc123", "sk-", 'sk-"quoted"\\ \u00e9\u2603'):
            document = get_json(target, "/api/validate-key", method="POST", body={"api_key": key})
            assert document == {"valid": True, "key": key}, (key, document)
        for key in ("", "pk-abc", "SK-abc", " sk-abc", "s"):
            document = get_json(target, "/api/validate-key", method="POST", body={"api_key": key})
            assert document == {"valid": False}, (key, document)
        # Other members are ignored, wherever they stand.
        document = get_json(target, "/api/validate-key", method="POST",
                            body={"model": "x", "api_key": "sk-1", "extra": [1, {"a": None}]})
        assert document == {"valid": True, "key": "sk-1"}
        for bad in ("", "{", "[]", "not json", '{"key":"sk-1"}', '{"api_key":5}', '{"api_key":null}',
                    '{"api_key":"sk-1"} trailing', '{"api_key":"sk-1",}'):
            assert_error(*request(target, "/api/validate-key", "POST", bad), 400)
        for method in ("GET", "PUT", "DELETE", "HEAD"):
            assert_method_not_allowed(target, "/api/validate-key", method, "POST")


# ----------------------------------------------------------------------------------------------
# Movies


def test_movie_status_and_ids():
    with start_target() as target:
        assert get_json(target, "/status") == {"status": "ok"}
        movies = {}
        for movie_id in (1, 2, 500, 999, 1000):
            document = get_json(target, f"/api/id/{movie_id}")
            assert list(document) == ["id", "title", "year"], document
            assert document["id"] == movie_id and document["title"] == f"Movie {movie_id}", document
            assert isinstance(document["year"], int) and 1900 <= document["year"] <= 2030, document
            movies[movie_id] = document
        assert len({movie["year"] for movie in movies.values()}) > 1, "every movie has the same year"
        for bad in ("0", "1001", "abc", "", "-1", "1/2", "1.5"):
            assert_error(*request(target, f"/api/id/{bad}"), 404)
    # Deterministic: another process gives the same answers.
    with start_target() as target:
        for movie_id, document in movies.items():
            assert get_json(target, f"/api/id/{movie_id}") == document


def test_movie_titles():
    with start_target() as target:
        document = get_json(target, "/api/title/The%20Matrix/1999")
        assert list(document) == ["title", "year", "id"], document
        assert document["title"] == "The Matrix" and document["year"] == 1999, document
        assert isinstance(document["id"], int) and 1 <= document["id"] <= 1000, document
        assert get_json(target, "/api/title/The%20Matrix/1999") == document
        # The id is a real movie, for a scenario to follow up on.
        assert get_json(target, f"/api/id/{document['id']}")["id"] == document["id"]
        cases = {
            "/api/title/Am%C3%A9lie/2001": "Am\u00e9lie",
            "/api/title/a+b/2000": "a+b",  # '+' in a path is not a space
            "/api/title/AC%2FDC/2000": "AC/DC",
            "/api/title/AC/DC/2000": "AC/DC",  # the year is the last segment
            "/api/title/Say%20%22hi%22/1900": 'Say "hi"',
            "/api/title/100%/2030": "100%",
        }
        for path, title in cases.items():
            document = get_json(target, path)
            assert document["title"] == title, (path, document)
            assert 1 <= document["id"] <= 1000
        ids = {get_json(target, f"/api/title/{title}/{year}")["id"] for title in ("x", "y", "z") for year in (1999, 2000)}
        assert len(ids) > 1, "every title has the same id"
        for bad in ("/api/title/x/1899", "/api/title/x/2031", "/api/title/x/abc", "/api/title/x/",
                    "/api/title/x", "/api/title//1999", "/api/title/"):
            assert_error(*request(target, bad), 404)


# ----------------------------------------------------------------------------------------------
# Monitoring agent


def test_monitoring_endpoints():
    with start_target() as target:
        documents = {}
        for written, other in (("/health/", "/health"), ("/system/metrics", "/system/metrics/"),
                               ("/analysis/", "/analysis"), ("/lmcache/status", "/lmcache/status/")):
            document = get_json(target, written)
            assert get_json(target, other) == document, (written, other)
            documents[written] = document
        assert documents["/health/"] == {"status": "healthy"}
        metrics = documents["/system/metrics"]
        assert set(metrics) == {"cpu", "memory", "disk"}, metrics
        assert all(isinstance(value, (int, float)) and 0 <= value <= 100 for value in metrics.values()), metrics
        assert get_json(target, "/system/metrics") == metrics  # fixed numbers
        analysis = documents["/analysis/"]
        assert isinstance(analysis, dict) and analysis.get("status") == "complete", analysis
        assert isinstance(analysis.get("findings"), list) and analysis["findings"], analysis
        lmcache = documents["/lmcache/status"]
        assert lmcache["enabled"] is True and isinstance(lmcache["entries"], int), lmcache
        for path in ("/optimize/run", "/optimize/run/"):
            assert get_json(target, path, 202, method="POST") == {"job": "optimize", "status": "accepted"}
            assert_method_not_allowed(target, path, "GET", "POST")
        assert_error(*request(target, "/health//"), 404)
        assert_error(*request(target, "/system/metrics//"), 404)


# ----------------------------------------------------------------------------------------------
# API-key proxy

AUTH = {"Authorization": "Bearer sk-test"}


def test_proxy_rate_limit_cadence_on_one_connection():
    with start_target() as target:
        conn = target.connect()
        local_address = None
        paths = ["/proxy/v1/models", "/proxy/v1/chat/completions", "/proxy/a%20b", "/proxy/"]
        methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
        statuses = []
        for n in range(1, 23):
            path = paths[n % len(paths)]
            response, body = request(target, path, methods[n % len(methods)], body="{}", headers=AUTH, conn=conn)
            if local_address is None:
                local_address = conn.sock.getsockname()
            assert conn.sock is not None and conn.sock.getsockname() == local_address, "connection was reopened"
            statuses.append(response.status)
            if n % 5 == 0:
                assert json_answer(response, body, 429) == {"error": "rate limited"}, n
                assert response.getheader("Retry-After") == "1", response.getheaders()
            else:
                assert json_answer(response, body, 200) == {"proxied": path[len("/proxy"):]}, (n, body)
                assert response.getheader("Retry-After") is None
        assert [i + 1 for i, status in enumerate(statuses) if status == 429] == [5, 10, 15, 20], statuses
        conn.close()

        # The count is per connection: a new one starts again at 1.
        conn = target.connect()
        statuses = [request(target, "/proxy/x", headers=AUTH, conn=conn)[0].status for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429], statuses
        # Rejected requests never reach the limiter; /proxy/fail/ requests do.
        statuses = [request(target, "/proxy/x", headers=AUTH, conn=conn)[0].status for _ in range(3)]
        statuses.append(request(target, "/proxy/x", conn=conn)[0].status)
        statuses.append(request(target, "/proxy/fail/503", headers=AUTH, conn=conn)[0].status)
        statuses.append(request(target, "/proxy/x", headers=AUTH, conn=conn)[0].status)
        assert statuses == [200, 200, 200, 401, 503, 429], statuses
        conn.close()


def test_proxy_pipelined_cadence():
    """The limiter counts requests, not reads: twelve pipelined in one write get the same cadence."""
    with start_target() as target:
        sock = socket.create_connection((target.host, target.port), timeout=SOCKET_TIMEOUT)
        stream = sock.makefile("rb")
        sock.sendall(b"GET /proxy/p HTTP/1.1\r\nHost: t\r\nAuthorization: k\r\n\r\n" * 12)
        statuses = []
        for _ in range(12):
            status_line = stream.readline()
            statuses.append(int(status_line.split()[1]))
            length = None
            while (line := stream.readline()) != b"\r\n":
                assert line.endswith(b"\r\n"), line
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None and len(stream.read(length)) == length
        sock.close()
        assert statuses == [200, 200, 200, 200, 429, 200, 200, 200, 200, 429, 200, 200], statuses


def test_proxy_requires_authorization():
    with start_target() as target:
        for method in ("GET", "POST", "DELETE"):
            response, body = request(target, "/proxy/v1/models", method)
            assert_error(response, body, 401)
            assert response.getheader("WWW-Authenticate") == "Bearer"
            assert response.getheader("Retry-After") is None
        response, body = request(target, "/proxy/fail/500")
        assert_error(response, body, 401)
        # Present is enough, whatever the value.
        document = get_json(target, "/proxy/v1/models", headers={"authorization": ""})
        assert document == {"proxied": "/v1/models"}


def test_proxy_paths_and_failures():
    with start_target() as target:
        # Each on a fresh connection, so that the rate limiter stays out of the way.
        for path, proxied in (("/proxy/v1/models?limit=5", "/v1/models"), ("/proxy/", "/"),
                              ("/proxy/a%20b", "/a%20b"), ("/proxy/fail", "/fail"),
                              ("/proxy/failure/500", "/failure/500")):
            assert get_json(target, path, headers=AUTH) == {"proxied": proxied}, path
        for status in (400, 401, 418, 429, 500, 502, 503, 599):
            response, body = request(target, f"/proxy/fail/{status}", "POST", headers=AUTH)
            assert_error(response, body, status)
        for bad in ("399", "600", "200", "abc", ""):
            response, body = request(target, f"/proxy/fail/{bad}", headers=AUTH)
            assert_error(response, body, 400)
        assert_error(*request(target, "/proxy", headers=AUTH), 404)


# ----------------------------------------------------------------------------------------------
# Job API


def test_jobs_list_and_get():
    with start_target() as target:
        jobs = get_json(target, "/api/jobs")
        assert isinstance(jobs, list) and [job["id"] for job in jobs] == list(range(1, 21)), jobs
        for job in jobs:
            assert list(job) == ["id", "name", "status"], job
            assert isinstance(job["name"], str) and job["name"] and job["status"] in JOB_STATUSES, job
            assert get_json(target, f"/api/jobs/{job['id']}") == job
        for job_id in (21, 500, 1000):
            job = get_json(target, f"/api/jobs/{job_id}")
            assert job["id"] == job_id and job["status"] in JOB_STATUSES, job
        for bad in ("0", "1001", "abc", "", "-1", "1/x"):
            assert_error(*request(target, f"/api/jobs/{bad}"), 404)
        response, body = request(target, "/api/jobs", "HEAD")
        assert response.status == 200 and body == b"" and int(response.getheader("Content-Length")) > 0


def test_job_create():
    # Two threads: ids are counted per thread, and one connection stays on one thread.
    with start_target(threads=2) as target:
        conn = target.connect()
        created = []
        for name in ("nightly", 'quote " and \u2603', ""):
            response, body = request(target, "/api/jobs", "POST", {"name": name, "priority": 3}, conn=conn)
            document = json_answer(response, body, 201)
            assert list(document) == ["id", "name", "status"], document
            assert document["name"] == name and document["status"] == "queued", document
            created.append(document["id"])
        for bad in ("", "{", "[]", '{"title":"x"}', '{"name":7}', '{"name":null}', '{"name":"x"} y'):
            assert_error(*request(target, "/api/jobs", "POST", bad, conn=conn), 400)
        # A refused request takes no id.
        created.append(json_answer(*request(target, "/api/jobs", "POST", {"name": "last"}, conn=conn), 201)["id"])
        conn.close()
        assert all(isinstance(job_id, int) and job_id >= 1 for job_id in created), created
        assert created == list(range(created[0], created[0] + 4)), created


def test_job_delete_and_methods():
    with start_target() as target:
        for job_id in ("5", "1000", "123456"):
            response, body = request(target, f"/api/jobs/{job_id}", "DELETE")
            assert response.status == 204 and body == b"", (job_id, response.status)
            assert response.getheader("Content-Length") is None and response.getheader("Content-Type") is None
        assert_error(*request(target, "/api/jobs/abc", "DELETE"), 404)
        for method in ("PUT", "PATCH", "POST"):
            assert_method_not_allowed(target, "/api/jobs/5", method, "GET, HEAD, DELETE")
        for method in ("PUT", "DELETE"):
            assert_method_not_allowed(target, "/api/jobs", method, "GET, HEAD, POST")


def test_templates():
    with start_target() as target:
        templates = get_json(target, "/api/templates")
        assert isinstance(templates, list) and len(templates) == 5, templates
        assert [template["id"] for template in templates] == [1, 2, 3, 4, 5]
        assert all(isinstance(template["name"], str) and template["name"] for template in templates), templates


def test_admin_stats():
    with start_target() as target:
        for headers in ({}, {"X-Admin-Token": "Admin"}, {"X-Admin-Token": ""}, {"X-Admin-Token": "admin "},
                        {"Authorization": "admin"}):
            response, body = request(target, "/api/admin/stats", headers=headers)
            assert_error(response, body, 403)
        for name in ("X-Admin-Token", "x-admin-token"):
            stats = get_json(target, "/api/admin/stats", headers={name: "admin"})
            assert set(stats) == {"jobs", "users"}, stats
            assert all(isinstance(value, int) and value >= 0 for value in stats.values()), stats


def test_search():
    with start_target() as target:
        listed = get_json(target, "/api/jobs")
        document = get_json(target, "/api/search?q=build")
        assert list(document) == ["query", "results"] and document["query"] == "build", document
        assert document["results"], document
        assert document["results"] == [job for job in listed if "build" in job["name"].lower()], document

        document = get_json(target, "/api/search?q=Nightly+BUILD&page=2")
        assert document["query"] == "Nightly BUILD"
        assert document["results"] == [job for job in listed if "nightly build" in job["name"].lower()]

        assert get_json(target, "/api/search?q=%23") == {"query": "#", "results": listed}
        assert get_json(target, "/api/search") == {"query": "", "results": listed}
        assert get_json(target, "/api/search?q=") == {"query": "", "results": listed}
        assert get_json(target, "/api/search?q=zzz") == {"query": "zzz", "results": []}
        assert get_json(target, "/api/search?q=a&q=%22x%22") == {"query": '"x"', "results": []}


# ----------------------------------------------------------------------------------------------
# All of them on one connection


def test_mixed_keep_alive_session():
    """A scenario's session: every API on one connection, which must stay open throughout."""
    with start_target() as target:
        conn = target.connect()
        steps = [
            ("POST", "/api/validate-key", {"api_key": "sk-x"}, {}, 200),
            ("GET", "/status", None, {}, 200),
            ("GET", "/api/id/42", None, {}, 200),
            ("GET", "/api/title/Up/2009", None, {}, 200),
            ("GET", "/health/", None, {}, 200),
            ("POST", "/optimize/run", None, {}, 202),
            ("GET", "/proxy/v1", None, AUTH, 200),
            ("POST", "/api/jobs", {"name": "n"}, {}, 201),
            ("DELETE", "/api/jobs/3", None, {}, 204),
            ("GET", "/api/admin/stats", None, {"X-Admin-Token": "admin"}, 200),
            ("GET", "/api/search?q=tests", None, {}, 200),
            ("GET", "/api/validate-key", None, {}, 405),
            ("GET", "/api/id/0", None, {}, 404),
        ]
        local_address = None
        for method, path, body, headers, status in steps:
            response, _ = request(target, path, method, body, headers, conn=conn)
            assert response.status == status, (method, path, response.status)
            assert response.getheader("Connection") is None, (method, path)
            if local_address is None:
                local_address = conn.sock.getsockname()
            assert conn.sock is not None and conn.sock.getsockname() == local_address, (method, path)
        conn.close()


if __name__ == "__main__":
    run_tests(globals())
