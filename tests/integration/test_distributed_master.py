"""`cicada run --master` (docs/distributed.md): cicada workers on loopback under a cicada master,
with nginx as the target whose access log counts what arrived; exact merged histograms; a
worker killed mid-run and one joining late; a master that disappears; classes that do not
match; garbage sent to the master; a Locust (Python) worker under a cicada master."""

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.request

import msgpack
import zmq

from harness import REPO_ROOT, cicada_bin, run_tests
from servers import free_port, start_nginx

LOCUST_DIR = REPO_ROOT / "tests" / "integration" / "locust"
SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"
TIMEOUT_S = 120


class Node:
    """A cicada process of a distributed run, its output in `directory`/`name`.*"""

    def __init__(self, directory, name, args, script="dist_shop.lua"):
        self.directory, self.name = directory, name
        self.out = open(os.path.join(directory, name + ".out"), "w")
        self.err = open(os.path.join(directory, name + ".err"), "w")
        self.process = subprocess.Popen([cicada_bin(), "run", str(SCENARIOS / script), *args, "--json-file",
                                         os.path.join(directory, name + ".json")],
                                        stdout=self.out, stderr=self.err, stdin=subprocess.DEVNULL)

    def wait(self, timeout=TIMEOUT_S):
        return self.process.wait(timeout=timeout)

    def log(self):
        with open(os.path.join(self.directory, self.name + ".err")) as f:
            return f.read()

    def report(self):
        with open(os.path.join(self.directory, self.name + ".json")) as f:
            return json.load(f)

    def wait_for_log(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log())
            if match:
                return match
            assert self.process.poll() is None, f"{self.name} exited ({self.process.returncode}) before {pattern!r}:\n{self.log()}"
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: no {pattern!r} within {timeout} s:\n{self.log()}")

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        self.out.close()
        self.err.close()


@contextlib.contextmanager
def distributed(directory, master_args, workers, worker_args=(), worker_script="dist_shop.lua"):
    port = free_port()
    nodes = [Node(directory, "master", ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                                        "--headless", *master_args])]
    for i in range(workers):
        nodes.append(Node(directory, f"worker{i + 1}", ["--worker", "--master-port", str(port), "--threads", "1",
                                                         *worker_args], script=worker_script))
    try:
        yield port, nodes
    finally:
        for node in nodes:
            node.stop()


def entries(report):
    return {(e["method"], e["name"]): e for e in report["entries"]}


def in_flight(report, key):
    return sum(e["count"] for e in report["in_flight_at_stop"] if (e["method"], e["name"]) == key)


def last_spawned(node):
    """The users per class of the master's last order before it stopped the test."""
    log = node.log().split("The master said stop", 1)[0]
    return json.loads(re.findall(r"(?:Spawned|Stopped) users: (\{.*\}) \(\d+ total users\)", log)[-1])


def nginx_counts(nginx):
    counts = {}
    with open(os.path.join(nginx.directory, "access.log")) as log:
        for line in log:
            _, status, uri = line.split()
            counts[uri] = counts.get(uri, 0) + 1
    return counts


def percentile_ms(buckets, min_ms, max_ms, p):
    """cicada's percentile over [low, high, count] buckets: nearest rank, bucket midpoint,
    clamped to the exact min and max (runtime/stats/histogram.cpp)."""
    total = sum(count for _, _, count in buckets)
    if p >= 1:
        return max_ms
    target = p * total
    rank = max(1, math.ceil(target - target * 1e-12))
    seen = 0
    for low, high, count in buckets:
        seen += count
        if seen >= rank:
            return min(max((low + (high - low) // 2) / 1000, min_ms), max_ms)
    raise AssertionError("rank beyond the buckets")


def test_a_master_and_two_workers_count_exactly():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        with distributed(directory, ["--expect-workers", "2", "-u", "200", "-r", "100", "-t", "6s", "-H", nginx.url],
                         2) as (port, nodes):
            master, workers = nodes[0], nodes[1:]
            master_code = master.wait()
            codes = [w.wait(timeout=30) for w in workers]
        log = master.log()
        assert master_code == 1, (master_code, log)  # /error fails
        assert set(codes) <= {0, 1}, (codes, [w.log() for w in workers])
        assert len(re.findall(r"Worker \S+ \(index \d\) reported as ready", log)) == 2, log
        assert "Starting cicada" in log and "with 2 workers" in log, log
        assert 'All users spawned: {"Shopper": 150, "Broken": 50} (200 total users)' in log, log
        # Locust's dispatch: the workers got 100 users each, the classes spread evenly.
        spawned = [last_spawned(w) for w in workers]
        assert [sum(s.values()) for s in spawned] == [100, 100], spawned
        assert {c: sum(s[c] for s in spawned) for c in ("Shopper", "Broken")} == {"Shopper": 150, "Broken": 50}
        assert all(abs(s["Broken"] - 25) <= 1 for s in spawned), spawned

        merged, parts = master.report(), [w.report() for w in workers]
        served = nginx_counts(nginx)
        for key, uri in ((("GET", "/items/[id]"), "/items/1"), (("GET", "/error"), "/error")):
            mine = entries(merged)[key]
            assert mine["num_requests"] == sum(entries(p)[key]["num_requests"] for p in parts) > 100, key
            assert mine["num_failures"] == sum(entries(p)[key]["num_failures"] for p in parts)
            # The workers' cut-off requests reach the master too; nginx answered every completed
            # request and at most those besides (one cut off may not have been sent yet).
            assert in_flight(merged, key) == sum(in_flight(p, key) for p in parts)
            assert mine["num_requests"] <= served[uri] <= mine["num_requests"] + in_flight(merged, key), (
                uri, served, mine["num_requests"], in_flight(merged, key))
            # Exact percentiles: the master's histogram is the workers' added bucket by bucket,
            # so its percentiles are those of one process over all the samples.
            summed = {}
            for p in parts:
                for low, high, count in entries(p)[key]["histogram"]["buckets"]:
                    summed[(low, high)] = summed.get((low, high), 0) + count
            buckets = [[low, high, count] for (low, high), count in sorted(summed.items())]
            assert mine["histogram"]["buckets"] == buckets, key
            assert mine["min_ms"] == min(entries(p)[key]["min_ms"] for p in parts)
            assert mine["max_ms"] == max(entries(p)[key]["max_ms"] for p in parts)
            assert mine["total_response_time_us"] == sum(entries(p)[key]["total_response_time_us"] for p in parts)
            for label, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999), ("p100", 1.0)):
                assert mine["percentiles_ms"][label] == percentile_ms(buckets, mine["min_ms"], mine["max_ms"], p), (key, label)
        raised = sum(x["count"] for p in parts for x in p["exceptions"])
        assert raised > 0 and sum(x["count"] for x in merged["exceptions"]) == raised
        # Locust's console tables on the master, with the merged numbers.
        assert "Aggregated" in open(os.path.join(directory, "master.out")).read()


def test_a_killed_worker_is_replaced_and_named():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        # Only the Shopper class: no failures, so what makes the run fail is the lost worker.
        web_port = free_port()
        with distributed(directory, ["Shopper", "--expect-workers", "3", "-u", "30", "-r", "30", "-t", "20s", "-H",
                                     nginx.url, "--metrics", "--web-port", str(web_port)], 3) as (port, nodes):
            master, workers = nodes[0], nodes[1:]
            master.wait_for_log(r"All users spawned")
            victim = workers[2]
            # After a report or two of its own, which the master keeps.
            victim.wait_for_log(r"Spawned users")
            time.sleep(4)
            victim_id = victim.wait_for_log(r"Worker (\S+) connecting").group(1)
            victim.process.send_signal(signal.SIGKILL)
            lost = master.wait_for_log(rf"Worker {re.escape(victim_id)} \(index \d\) was lost at (\d\d:\d\d:\d\d): "
                                       r"no heartbeat for 3 s; its 10 users were given to the other workers")
            # The survivors run all 30 users now.
            deadline = time.monotonic() + 30
            while sum(sum(last_spawned(w).values()) for w in workers[:2]) != 30:
                assert time.monotonic() < deadline, [w.log() for w in workers[:2]]
                time.sleep(0.2)
            # The web API lists the workers as Locust's master does, the lost one `missing`.
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/stats/requests", timeout=10) as answer:
                api = json.loads(answer.read())
            assert api["worker_count"] == 2, api["workers"]
            states = {w["id"]: w for w in api["workers"]}
            assert states[victim_id]["state"] == "missing" and states[victim_id]["user_count"] == 0, states
            assert len(states) == 3 and all(w["memory_usage"] > 0 for w in states.values()), states
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/worker-count", timeout=10) as answer:
                assert json.loads(answer.read()) == {"worker_count": 2}
            # A worker that joins late is given its share.
            late = Node(directory, "late", ["--worker", "--master-port", str(port), "--threads", "1"])
            nodes.append(late)
            late.wait_for_log(r"Spawned users: \{\"Shopper\": 10")
            master_code = master.wait()
            codes = [w.wait(timeout=30) for w in (workers[0], workers[1], late)]
        log = master.log()
        assert master_code == 1, (master_code, log)
        assert codes == [0, 0, 0], (codes, late.log())
        assert lost.group(1)
        # Every report says which worker was lost and when.
        report = master.report()
        messages = [x["message"] for x in report["exceptions"]]
        assert any(victim_id in m and "was lost at " + lost.group(1) in m for m in messages), messages
        assert sum(sum(last_spawned(w).values()) for w in (workers[0], workers[1], late)) == 30
        # What the survivors and the late worker recorded is all in the master's report; the
        # victim's last seconds are lost, so nginx saw at least that many.
        completed = entries(report)[("GET", "/items/[id]")]["num_requests"]
        survivors = sum(entries(w.report())[("GET", "/items/[id]")]["num_requests"] for w in (workers[0], workers[1], late))
        assert survivors < completed <= nginx_counts(nginx)["/items/1"], (survivors, completed)


def test_a_worker_heard_again_gets_users_again():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        with distributed(directory, ["Shopper", "--expect-workers", "2", "-u", "10", "-r", "100", "-t", "30s", "-H",
                                     nginx.url], 2) as (port, nodes):
            master, first, second = nodes
            master.wait_for_log(r"All users spawned")
            second_id = second.wait_for_log(r"Worker (\S+) connecting").group(1)
            # Frozen: no heartbeat, so the master takes its users away...
            second.process.send_signal(signal.SIGSTOP)
            master.wait_for_log(rf"Worker {re.escape(second_id)} \(index \d\) was lost at")
            deadline = time.monotonic() + 30
            while sum(last_spawned(first).values()) != 10:
                assert time.monotonic() < deadline, first.log()
                time.sleep(0.2)
            # ...and gives it some back when it is heard again.
            second.process.send_signal(signal.SIGCONT)
            master.wait_for_log(rf"Worker {re.escape(second_id)} \(index \d\) is heard again")
            deadline = time.monotonic() + 30
            while not (sum(last_spawned(first).values()) == 5 and sum(last_spawned(second).values()) == 5):
                assert time.monotonic() < deadline, (first.log(), second.log())
                time.sleep(0.2)
            master.process.send_signal(signal.SIGINT)
            assert master.wait() == 1  # the loss is an exception of the run
            assert [w.wait(timeout=30) for w in (first, second)] == [0, 0]


def test_workers_leave_when_their_master_disappears():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        with distributed(directory, ["--expect-workers", "1", "-u", "4", "-r", "10", "-t", "60s", "-H", nginx.url], 1,
                         worker_args=["--master-timeout", "3s"]) as (port, nodes):
            master, worker = nodes
            worker.wait_for_log(r"Spawned users")
            master.process.send_signal(signal.SIGKILL)
            code = worker.wait(timeout=60)
        log = worker.log()
        assert code == 1, (code, log)
        assert "The master sent no heartbeat for 3 s (--master-timeout): it is gone; stopping the users and quitting" in log
        # It stopped like any run: its report is written.
        assert entries(worker.report())[("GET", "/items/[id]")]["num_requests"] > 0


def test_a_worker_with_other_classes_is_refused_on_both_sides():
    with tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        with distributed(directory, ["--expect-workers", "1", "-u", "2", "-r", "10", "-t", "30s", "-H",
                                     "http://127.0.0.1:9"], 1, worker_script="dist_other.lua") as (port, nodes):
            master, worker = nodes
            worker_code = worker.wait()
            master_code = master.wait()
        message = ("The master asked for users of the class 'Broken', which this worker's script does not run "
                   "(its classes: Admin)")
        assert worker_code == 2 and message in worker.log(), worker.log()
        assert master_code == 1, master.log()
        assert "The last worker quit" in master.log(), master.log()
        assert any(message in x["message"] for x in master.report()["exceptions"]), master.report()["exceptions"]


def test_garbage_sent_to_the_master_is_logged_and_ignored():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        with distributed(directory, ["Shopper", "--expect-workers", "2", "-u", "4", "-r", "10", "-t", "5s", "-H",
                                     nginx.url], 1) as (port, nodes):
            master, worker = nodes
            context = zmq.Context()
            rogue = context.socket(zmq.DEALER)
            rogue.setsockopt(zmq.IDENTITY, b"rogue_0123")
            rogue.connect(f"tcp://127.0.0.1:{port}")
            try:
                for payload in (b"", b"\xc1", os.urandom(2048), msgpack.packb([1, 2, 3]),
                                msgpack.packb(["heartbeat", {"state": 7}, "rogue_0123"]),
                                msgpack.packb(["client_ready", "", "rogue_0123"])):
                    rogue.send(payload)
                # A real worker (the second expected) that then sends broken reports.
                rogue.send(msgpack.packb(["client_ready", -1, "rogue_0123"]))
                # The heartbeat it sent before it said client_ready got a `reconnect` (the master
                # may have restarted under a worker), then its client_ready an `ack`.
                heard = []
                deadline = time.monotonic() + 30
                while "ack" not in heard:
                    assert time.monotonic() < deadline, (heard, master.log())
                    if rogue.poll(100):
                        heard.append(msgpack.unpackb(rogue.recv(), raw=False)[0])
                assert heard[0] == "reconnect", heard
                for data in ({"stats": "no"}, {"stats": [{"name": "/x"}]}, {"stats": [], "errors": {"k": 5}},
                             {"stats": [{"name": "/x", "method": "GET", "num_requests": -1, "num_failures": 0,
                                         "total_response_time": 1, "max_response_time": 1, "min_response_time": 1,
                                         "total_content_length": 0, "response_times": {}}]},
                             {"stats": [{"name": "/x", "method": "GET", "num_requests": 1, "num_failures": 0,
                                         "total_response_time": 1, "max_response_time": 1, "min_response_time": 1,
                                         "total_content_length": 0, "cicada_histogram": [[10 ** 9, 1]]}]}):
                    rogue.send(msgpack.packb(["stats", data, "rogue_0123"]))
                rogue.send(msgpack.packb(["no_such_type", None, "rogue_0123"]))
                # It keeps its heartbeat so that it is not lost (which would also fail the run).
                end = time.monotonic() + 60
                while master.process.poll() is None and time.monotonic() < end:
                    rogue.send(msgpack.packb(["heartbeat", {"state": "running", "current_cpu_usage": 1,
                                                            "current_memory_usage": 1}, "rogue_0123"]))
                    time.sleep(0.5)
            finally:
                rogue.close(linger=0)
                context.term()
            master_code = master.wait()
            worker.wait(timeout=30)
        log = master.log()
        assert master_code == 0, (master_code, log)
        assert log.count("sent a message that is not Locust's") >= 4, log
        assert "A worker older than Locust 2.0 tried to connect" in log, log
        assert log.count("sent a stats report that cannot be read") == 5, log
        assert "unknown type 'no_such_type'" in log, log
        # Nothing of the garbage counts; the real worker's requests all do.
        report = master.report()
        assert [key for key in entries(report)] == [("GET", "/items/[id]")], entries(report).keys()
        assert entries(report)[("GET", "/items/[id]")]["num_requests"] == \
            entries(worker.report())[("GET", "/items/[id]")]["num_requests"] > 0


def test_a_locust_worker_under_a_cicada_master():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        users = 20
        with distributed(directory, ["--expect-workers", "1", "-u", str(users), "-r", "20", "-t", "6s", "-H",
                                     nginx.url], 0) as (port, nodes):
            master = nodes[0]
            with open(os.path.join(directory, "locust.log"), "w") as locust_log:
                locust = subprocess.Popen(["/usr/bin/python3", str(LOCUST_DIR / "versioned_worker.py"), "-f",
                                           str(LOCUST_DIR / "dist_locustfile.py"), "--worker", "--master-port",
                                           str(port)], stdout=subprocess.DEVNULL, stderr=locust_log,
                                          stdin=subprocess.DEVNULL, cwd=directory)
                try:
                    master_code = master.wait()
                    locust_code = locust.wait(timeout=60)
                finally:
                    if locust.poll() is None:
                        locust.kill()
        with open(os.path.join(directory, "locust.log")) as f:
            worker_log = f.read()
        assert master_code == 1, master.log()  # /error fails
        assert locust_code == 0, worker_log
        assert "Got quit message from master" in worker_log, worker_log
        report = entries(master.report())
        served = nginx_counts(nginx)
        lost = "was lost at" in master.log()
        # Locust's worker sends its last numbers when told to quit, which the master waits for;
        # requests its users were waiting on when they were killed are not counted (nor known).
        # (On a machine too busy for the Python worker's heartbeat it is lost, as under Locust's
        # own master, and the master has only what it reported until then.)
        for key, uri in ((("GET", "/items/[id]"), "/items/1"), (("GET", "/error"), "/error")):
            assert (0 if lost else served[uri] - users) <= report[key]["num_requests"] <= served[uri], (
                key, report[key]["num_requests"], served, master.log(), worker_log)
        assert report[("GET", "/error")]["num_failures"] == report[("GET", "/error")]["num_requests"]


def test_a_master_that_cannot_start_ends_at_once():
    with tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        # No load and no terminal: the run ends before it starts, with the master's socket open.
        master = Node(directory, "master", ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port",
                                            str(free_port()), "-H", "http://127.0.0.1:9"])
        try:
            code = master.wait(timeout=30)
        finally:
            master.stop()
        assert code == 2, master.log()
        assert "no load given" in master.log()


def processes_with(text):
    """Running processes whose command line contains `text`."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


def test_processes_is_a_master_and_its_local_workers():
    with start_nginx() as nginx, tempfile.TemporaryDirectory(prefix="cicada-master-") as directory:
        port = free_port()
        os.environ["CICADA_CSV"] = os.path.join(directory, "master")
        try:
            master = Node(directory, "master", ["Shopper", "--processes", "2", "--master-bind-host", "127.0.0.1",
                                                "--master-bind-port", str(port), "--headless", "-u", "10", "-r", "10",
                                                "-t", "4s", "-H", nginx.url])
        finally:
            del os.environ["CICADA_CSV"]
        try:
            master.wait_for_log(r"All users spawned")
            # The workers get their options from the command line the master builds: no config
            # file, no CICADA_* variables (which would make each write the master's reports).
            workers = processes_with(f"--master-port\0{port}")
            assert len(workers) == 2, workers
            for pid in workers:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                with open(f"/proc/{pid}/environ", "rb") as f:
                    variables = f.read().split(b"\0")
                assert b"--worker" in args and args[args.index(b"--config") + 1] == b"/dev/null", args
                assert not [v for v in variables if v.startswith(b"CICADA_")], variables
            code = master.wait()
        finally:
            master.stop()
        log = master.log()
        assert code == 0, log
        assert "with 2 workers" in log and len(re.findall(r"Worker \S+ connecting to the master", log)) == 2, log
        report = master.report()
        key = ("GET", "/items/[id]")
        completed = entries(report)[key]["num_requests"]
        assert 0 < completed <= nginx_counts(nginx)["/items/1"] <= completed + in_flight(report, key)
        assert os.path.exists(os.path.join(directory, "master_stats.csv"))
        # The master waited for its workers to leave.
        assert processes_with(f"--master-port\0{port}") == []


if __name__ == "__main__":
    run_tests(globals())
