"""Distributed runs on Locust's master/worker protocol (docs/distributed.md): cicada workers
under Debian's Locust master (2.12), with nginx as the target whose access log counts what
really arrived; a master whose classes are not the workers'; a master that sends garbage."""

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

import msgpack
import zmq

from harness import REPO_ROOT, _stop, cicada_bin, run_tests
from servers import free_port, start_nginx

LOCUST_DIR = REPO_ROOT / "tests" / "integration" / "locust"
SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
TIMEOUT_S = 120


@contextlib.contextmanager
def locust_master(locustfile, port, directory, *args):
    """Debian's Locust as a headless master on 127.0.0.1:`port`; yields the process (its stderr
    goes to `directory`/master.log)."""
    log = open(os.path.join(directory, "master.log"), "w")
    process = subprocess.Popen(["locust", "-f", str(locustfile), "--master", "--master-bind-host", "127.0.0.1",
                                "--master-bind-port", str(port), "--headless", "--csv",
                                os.path.join(directory, "locust"), *args],
                               stdout=subprocess.DEVNULL, stderr=log, stdin=subprocess.DEVNULL, cwd=directory)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        log.close()


def start_worker(port, directory, name, *args):
    out = open(os.path.join(directory, name + ".out"), "w")
    err = open(os.path.join(directory, name + ".err"), "w")
    return subprocess.Popen([cicada_bin(), "run", str(SCENARIOS / "dist_shop.lua"), "--worker", "--master-port",
                             str(port), "--threads", "1", "--json-file", os.path.join(directory, name + ".json"), *args],
                            stdout=out, stderr=err, stdin=subprocess.DEVNULL)


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        return f.read()


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def nginx_counts(nginx):
    """(status, uri) -> requests nginx answered."""
    counts = {}
    for line in read(nginx.directory, "access.log").splitlines():
        _, status, uri = line.split()
        counts[(status, uri)] = counts.get((status, uri), 0) + 1
    return counts


def test_cicada_workers_under_a_locust_master():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-dist-") as directory:
        port = free_port()
        with locust_master(LOCUST_DIR / "dist_locustfile.py", port, directory, "--expect-workers", "2", "-u", "200",
                           "-r", "100", "-t", "10s", "-H", nginx.url) as master:
            workers = [start_worker(port, directory, f"worker{i}") for i in (1, 2)]
            master_code = master.wait(timeout=TIMEOUT_S)
            codes = [w.wait(timeout=30) for w in workers]
        log = read(directory, "master.log")
        # Both workers joined, got users and quit when the master did, by themselves.
        assert master_code == 1, (master_code, log)  # failures: Locust's exit code 1
        # Failures make a worker's exit code 1, as a single run's; the master decides which
        # worker runs the failing class.
        assert set(codes) <= {0, 1} and 1 in codes, (codes, read(directory, "worker1.err"), read(directory, "worker2.err"))
        assert len(re.findall(r"Worker \S+ \(index \d\) reported as ready", log)) == 2, log
        assert 'All users spawned: {"Broken": 50, "Shopper": 150} (200 total users)' in log, log
        assert len(re.findall(r"Worker '\S+' \(index \d\) quit", log)) == 2, log
        # The users each worker ended with, by class, add up to what the master asked for.
        spawned = {}
        for name in ("worker1", "worker2"):
            last = re.findall(r"Spawned users: (\{.*\}) \(\d+ total users\)", read(directory, name + ".err"))[-1]
            for cls, count in json.loads(last).items():
                spawned[cls] = spawned.get(cls, 0) + count
        assert spawned == {"Shopper": 150, "Broken": 50}, spawned

        # The master's CSV has every request the workers completed; nginx saw those, and at
        # most the ones still in flight when the users stopped besides.
        reports = [json.loads(read(directory, f"worker{i}.json")) for i in (1, 2)]
        stats = {(row["Type"], row["Name"]): row for row in csv_rows(os.path.join(directory, "locust_stats.csv"))}
        served = nginx_counts(nginx)
        for (method, name), uri, status in ((("GET", "/items/[id]"), "/items/1", "200"), (("GET", "/error"), "/error", "500")):
            in_master = int(stats[(method, name)]["Request Count"])
            in_workers = sum(e["num_requests"] for r in reports for e in r["entries"]
                             if (e["method"], e["name"]) == (method, name))
            in_flight = sum(e["count"] for r in reports for e in r["in_flight_at_stop"]
                            if (e["method"], e["name"]) == (method, name))
            assert in_master == in_workers > 100, (name, in_master, in_workers)
            # A request cut off at the stop may or may not have reached nginx (its connection
            # may not have been open, or its bytes not sent, yet).
            assert in_master <= served[(status, uri)] <= in_master + in_flight, (name, served, in_master, in_flight)
        assert int(stats[("GET", "/error")]["Failure Count"]) == int(stats[("GET", "/error")]["Request Count"])
        assert int(stats[("GET", "/items/[id]")]["Failure Count"]) == 0
        failures = csv_rows(os.path.join(directory, "locust_failures.csv"))
        # (Locust writes the repr() of an error that is a string.)
        assert [(f["Method"], f["Name"], f["Error"]) for f in failures] == [("GET", "/error", "'HTTP 500 Internal Server Error'")], failures
        assert int(failures[0]["Occurrences"]) == int(stats[("GET", "/error")]["Failure Count"])
        # The exceptions the Lua tasks raised, as many as the workers counted.
        exceptions = csv_rows(os.path.join(directory, "locust_exceptions.csv"))
        raised = sum(x["count"] for r in reports for x in r["exceptions"])
        assert raised > 0
        assert sum(int(x["Count"]) for x in exceptions) == raised, (exceptions, raised)
        assert all("dist_shop.lua:13: deliberate failure every 10th run" in x["Message"] for x in exceptions), exceptions


def test_classes_the_worker_does_not_have():
    with tempfile.TemporaryDirectory(prefix="cicada-dist-") as directory:
        port = free_port()
        with locust_master(LOCUST_DIR / "dist_other_locustfile.py", port, directory, "--expect-workers", "1", "-u",
                           "2", "-r", "10", "-t", "20s", "-H", "http://127.0.0.1:1") as master:
            worker = start_worker(port, directory, "worker")
            worker_code = worker.wait(timeout=TIMEOUT_S)
            master.wait(timeout=TIMEOUT_S)
        err = read(directory, "worker.err")
        assert worker_code == 2, (worker_code, err)
        message = ("The master asked for users of the class 'Admin', which this worker's script does not run "
                   "(its classes: Shopper, Broken)")
        assert message in err, err
        # The master hears it too: the worker's message is in its exceptions, and it quit.
        exceptions = csv_rows(os.path.join(directory, "locust_exceptions.csv"))
        assert any(message in x["Message"] for x in exceptions), exceptions
        assert "The last worker quit, stopping test." in read(directory, "master.log")


class FakeMaster:
    """A ZeroMQ ROUTER speaking (and misspeaking) Locust's protocol to one worker."""

    def __init__(self):
        self.context = zmq.Context()
        self.socket = self.context.socket(zmq.ROUTER)
        self.port = self.socket.bind_to_random_port("tcp://127.0.0.1")
        self.worker_id = None

    def receive(self, wanted, timeout_s=30):
        """Messages until one of type `wanted`; returns it and every message before it."""
        seen = []
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.socket.poll(200):
                continue
            identity, payload = self.socket.recv_multipart()
            self.worker_id = identity
            message = msgpack.unpackb(payload, raw=False, strict_map_key=False)
            seen.append(message)
            if message[0] == wanted:
                return message, seen
        raise AssertionError(f"no {wanted!r} message within {timeout_s} s; got {[m[0] for m in seen]}")

    def send_raw(self, payload):
        self.socket.send_multipart([self.worker_id, payload])

    def send(self, type_, data):
        self.send_raw(msgpack.packb([type_, data, "master"], use_bin_type=True))

    def close(self):
        self.socket.close(linger=0)
        self.context.term()


def test_garbage_from_the_master_is_logged_and_ignored():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-dist-") as directory:
        master = FakeMaster()
        worker = start_worker(master.port, directory, "worker")
        try:
            ready, _ = master.receive("client_ready")
            assert ready[1] == -1 and re.fullmatch(r".+_[0-9a-f]{32}", ready[2]), ready
            master.send("ack", {"index": 0})
            heartbeat, _ = master.receive("heartbeat")
            assert heartbeat[1]["state"] == "ready" and heartbeat[1]["current_memory_usage"] > 0, heartbeat
            for payload in (b"", b"\xc1", b"not msgpack at all", msgpack.packb([1, 2, 3]), msgpack.packb(["spawn"]),
                            msgpack.packb({"type": "spawn"}), msgpack.packb(["spawn", [], "m"]),
                            msgpack.packb(["spawn", {"timestamp": 1, "user_classes_count": {"Shopper": -5}}, "m"]),
                            msgpack.packb(["spawn", {"timestamp": 1, "user_classes_count": {"Shopper": "many"}}, "m"]),
                            msgpack.packb(["spawn", {"timestamp": 1, "user_classes_count": {"Shopper": 10 ** 12}}, "m"]),
                            msgpack.packb(["no_such_type", None, "m"]), os.urandom(4096)):
                master.send_raw(payload)
            # Still alive and answering: a good order after the bad ones is run.
            master.send("spawn", {"timestamp": 2, "user_classes_count": {"Shopper": 3, "Broken": 0}, "host": nginx.url,
                                  "stop_timeout": None, "parsed_options": {}})
            complete, _ = master.receive("spawning_complete")
            assert complete[1] == {"user_classes_count": {"Shopper": 3, "Broken": 0}, "user_count": 3}, complete
            # An older order is ignored.
            master.send("spawn", {"timestamp": 1, "user_classes_count": {"Shopper": 9}, "host": nginx.url,
                                  "stop_timeout": None, "parsed_options": {}})
            stats, _ = master.receive("stats")
            deadline = time.monotonic() + 30
            while stats[1]["stats_total"]["num_requests"] == 0 and time.monotonic() < deadline:
                stats, _ = master.receive("stats")
            report = stats[1]
            assert report["user_count"] == 3 and report["user_classes_count"]["Shopper"] == 3, report
            entry = report["stats"][0]
            assert entry["name"] == "/items/[id]" and entry["method"] == "GET", entry
            # The exact histogram travels beside Locust's rounded one, with the same count.
            assert sum(count for _, count in entry["cicada_histogram"]) == entry["num_requests"]
            assert sum(entry["response_times"].values()) == entry["num_requests"]
            assert sum(entry["num_reqs_per_sec"].values()) == entry["num_requests"]
            master.send("stop", None)
            _, seen = master.receive("client_stopped")
            ready_again, _ = master.receive("client_ready")
            final = [m for m in seen if m[0] == "stats"][-1][1]
            assert final["user_count"] == 0, final
            master.send("quit", None)
            master.receive("quit")
            code = worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
            master.close()
        err = read(directory, "worker.err")
        assert code == 0, (code, err)
        assert err.count("The master sent a message that is not Locust's") >= 6, err
        assert "The master sent a bad spawn order" in err, err
        assert "unknown type 'no_such_type'" in err, err
        assert "Discarded a spawn order no newer than the previous one" in err, err
        served = nginx_counts(nginx)
        worker_report = json.loads(read(directory, "worker.json"))
        completed = sum(e["num_requests"] for e in worker_report["entries"])
        in_flight = sum(e["count"] for e in worker_report["in_flight_at_stop"])
        assert 0 < completed <= served.get(("200", "/items/1"), 0) <= completed + in_flight, (served, completed, in_flight)


if __name__ == "__main__":
    run_tests(globals())
