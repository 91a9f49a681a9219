#!/usr/bin/env python3
"""A CI script written against Locust's web API, as teams write them (standard library only):
start a test over HTTP, wait for traffic, read what the widely used Prometheus exporter for
Locust reads, stop, download the stats CSV. tests/integration/test_web_locust_compat.py runs it
unchanged against Debian's Locust and against cicada.

Usage: api_client.py BASE_URL TARGET_HOST      (prints one JSON line; exit 0 when all went well)
"""
import csv
import io
import json
import sys
import time
import urllib.parse
import urllib.request

base, host = sys.argv[1].rstrip("/"), sys.argv[2]


def get(path):
    with urllib.request.urlopen(base + path, timeout=10) as response:
        return response.read().decode()


def post(path, fields):
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(base + path, data=data), timeout=10) as response:
        return json.loads(response.read().decode())


def poll(predicate, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = json.loads(get("/stats/requests"))
        if predicate(stats):
            return stats
        time.sleep(0.5)
    sys.exit(f"timed out waiting for {what}")


swarm = post("/swarm", {"user_count": 2, "spawn_rate": 10, "host": host})
assert swarm["success"] is True and swarm["message"] == "Swarming started", swarm
running = poll(lambda s: s["state"] == "running" and s["stats"][-1]["num_requests"] > 0, "traffic")
# The exporter's fields.
for entry in running["stats"]:
    for key in ("method", "name", "num_requests", "num_failures", "avg_response_time", "current_fail_per_sec",
                "min_response_time", "max_response_time", "median_response_time", "current_rps", "avg_content_length"):
        assert key in entry, key
assert running["stats"][-1]["name"] == "Aggregated"
for key in ("errors", "total_rps", "fail_ratio", "user_count", "current_response_time_percentile_95",
            "current_response_time_percentile_50"):
    assert key in running, key
assert running["user_count"] == 2, running["user_count"]
stopped = json.loads(get("/stop"))
assert stopped == {"success": True, "message": "Test stopped"}, stopped
final = poll(lambda s: s["state"] == "stopped", "the stop")
rows = list(csv.DictReader(io.StringIO(get("/stats/requests/csv"))))
assert rows[-1]["Name"] == "Aggregated" and int(rows[-1]["Request Count"]) > 0, rows
print(json.dumps({"requests": int(rows[-1]["Request Count"]), "top_level": sorted(final),
                  "entry": sorted(final["stats"][0]), "tasks": json.loads(get("/tasks"))}))
