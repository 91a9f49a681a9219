#!/usr/bin/env python3
"""Simulated Locust workers for `scripts/bench --only master`: W ZeroMQ DEALERs in one process
that join a master (cicada's or Locust's), keep their heartbeat, and every 3 s send a stats
report with E entries as a busy cicada worker would (Locust's fields, the rounded response
times, per-second counts, and cicada's exact histogram beside them), without any traffic.

Usage: fake_workers.py HOST PORT WORKERS ENTRIES SECONDS [--probe-every S]

The reports are packed once per worker and sent again and again (the master merges deltas, so
repeating one is a valid run). With --probe-every, one worker adds an entry named
`/probe/<n>` to a report every S seconds and prints `probe <n> <unix time sent>`, so the
caller can time how long until the master's merged view has it. Prints `reports <count>` at
the end. Each worker starts at its own offset within the 3 s interval, as real workers do.
"""

import argparse
import random
import sys
import time
import uuid

import msgpack
import zmq

REPORT_INTERVAL_S = 3
HEARTBEAT_INTERVAL_S = 1


def entry(name, requests, rng):
    # A latency spread like a real service: most between 1 and 30 ms, a tail to 2 s.
    exact, rounded = {}, {}
    for _ in range(60):
        bucket = rng.randrange(1000, 7000)  # cicada's bucket indexes around 1 ms .. 2 s
        exact[bucket] = exact.get(bucket, 0) + requests // 60
    for ms in range(1, 40):
        rounded[ms] = requests // 39
    now = int(time.time())
    return {
        "name": name, "method": "GET", "last_request_timestamp": time.time(), "start_time": time.time() - 60,
        "num_requests": requests, "num_none_requests": 0, "num_failures": requests // 100,
        "total_response_time": requests * 12.5, "max_response_time": 2000.0, "min_response_time": 0.8,
        "total_content_length": requests * 512, "response_times": rounded,
        "num_reqs_per_sec": {now - 2: requests // 3, now - 1: requests // 3, now: requests - 2 * (requests // 3)},
        "num_fail_per_sec": {now: requests // 100},
        "cicada_histogram": sorted([k, v] for k, v in exact.items()),
    }


def report(entries, rng, extra=None):
    names = [f"/api/endpoint/{i}" for i in range(entries)] + ([extra] if extra else [])
    stats = [entry(name, 3000, rng) for name in names]
    total = entry("Aggregated", 3000 * len(names), rng)
    total["method"] = None
    errors = {f"GET./api/endpoint/{i}.HTTP 500": {"name": f"/api/endpoint/{i}", "method": "GET",
                                                  "error": "HTTP 500 Internal Server Error", "occurrences": 30}
              for i in range(min(entries, 10))}
    return {"stats": stats, "stats_total": total, "errors": errors, "user_classes_count": {"Bench": 1},
            "user_count": 1}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("workers", type=int)
    parser.add_argument("entries", type=int)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--probe-every", type=float, default=0)
    args = parser.parse_args()

    rng = random.Random(7)
    context = zmq.Context()
    workers = []
    for i in range(args.workers):
        node = f"bench{i}_{uuid.uuid4().hex}"
        socket = context.socket(zmq.DEALER)
        socket.setsockopt(zmq.IDENTITY, node.encode())
        socket.setsockopt(zmq.LINGER, 0)
        socket.connect(f"tcp://{args.host}:{args.port}")
        payload = msgpack.packb(["stats", report(args.entries, rng), node], use_bin_type=True)
        socket.send(msgpack.packb(["client_ready", -1, node], use_bin_type=True))
        workers.append({"node": node, "socket": socket, "payload": payload,
                        "next_report": time.monotonic() + REPORT_INTERVAL_S * (i + 1) / args.workers,
                        "next_heartbeat": time.monotonic() + HEARTBEAT_INTERVAL_S})
    poller = zmq.Poller()
    for w in workers:
        poller.register(w["socket"], zmq.POLLIN)
    heartbeat = {w["node"]: msgpack.packb(["heartbeat", {"state": "running", "current_cpu_usage": 50.0,
                                                         "current_memory_usage": 50 << 20}, w["node"]],
                                          use_bin_type=True) for w in workers}
    sent = 0
    probes = 0
    next_probe = time.monotonic() + args.probe_every if args.probe_every else None
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        now = time.monotonic()
        for w in workers:
            if now >= w["next_heartbeat"]:
                w["socket"].send(heartbeat[w["node"]])
                w["next_heartbeat"] += HEARTBEAT_INTERVAL_S
            if now >= w["next_report"]:
                w["socket"].send(w["payload"])
                w["next_report"] += REPORT_INTERVAL_S
                sent += 1
        if next_probe is not None and now >= next_probe:
            probes += 1
            name = f"/probe/{probes}"
            first = workers[0]
            first["socket"].send(msgpack.packb(["stats", report(0, rng, extra=name), first["node"]],
                                               use_bin_type=True))
            print(f"probe {probes} {time.time():.6f}", flush=True)
            next_probe += args.probe_every
        # The master's messages (ack, spawn, heartbeat) are read and dropped.
        for socket, _ in poller.poll(timeout=10):
            while True:
                try:
                    socket.recv(zmq.NOBLOCK)
                except zmq.Again:
                    break
    print(f"reports {sent}", flush=True)
    for w in workers:
        w["socket"].send(msgpack.packb(["quit", None, w["node"]], use_bin_type=True))
        w["socket"].close()
    context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
