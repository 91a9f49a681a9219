"""Requests in steady state allocate nothing on the heap: two runs that differ only in their
number of requests make (almost) the same number of malloc calls. The count comes from an
LD_PRELOAD library (tests/perf/malloc_counter.c). Only built and run without sanitizers."""

import os
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests, start_target
from servers import parse_report

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def allocations(target, scenario, iterations):
    counter = os.environ.get("MALLOC_COUNTER")
    assert counter and os.path.exists(counter), "MALLOC_COUNTER (the preload library) is not set"
    with tempfile.NamedTemporaryFile() as out:
        env = dict(os.environ, LD_PRELOAD=counter, MALLOC_COUNTER_OUT=out.name)
        result = run_cicada(["run", SCENARIOS / scenario, "-H", target.url, "-u", "10", "-r", "1000", "--threads", "1",
                             "--iterations", str(iterations)], timeout=120, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert parse_report(result.stdout).total["reqs"] == iterations
        return int(open(out.name).read())


def check_steady_state(scenario):
    with start_target() as target:
        small = allocations(target, scenario, 20_000)
        large = allocations(target, scenario, 60_000)
    per_request = (large - small) / 40_000
    print(f"{scenario}: {small} and {large} allocations: {per_request:.4f} per extra request")
    # Once a second the stats move to the coordinator (a few allocations a second): far below
    # one allocation per hundred requests. Any per-request allocation would show as >= 1.
    assert per_request < 0.01, per_request


def test_plain_requests_allocate_nothing():
    check_steady_state("one_get.lua")


def test_requests_with_options_and_json_allocate_nothing():
    check_steady_state("alloc_options.lua")


if __name__ == "__main__":
    run_tests(globals())
