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


def allocations_per_extra_request(scenario, small_run, large_run):
    with start_target() as target:
        small = allocations(target, scenario, small_run)
        large = allocations(target, scenario, large_run)
    per_request = (large - small) / (large_run - small_run)
    print(f"{scenario}: {small} and {large} allocations: {per_request:.4f} per extra request")
    return per_request


def check_steady_state(scenario):
    per_request = allocations_per_extra_request(scenario, 20_000, 60_000)
    # Once a second the stats move to the coordinator (a few allocations a second): far below
    # one allocation per hundred requests. Any per-request allocation would show as >= 1.
    assert per_request < 0.01, per_request


def test_the_counter_sees_the_binarys_allocations():
    # Without this, a counter that missed the allocator the binary links (jemalloc answers
    # operator new itself) would pass the tests below by counting nothing.
    per_request = allocations_per_extra_request("alloc_distinct_names.lua", 1_000, 3_000)
    assert per_request >= 1, per_request


def test_plain_requests_allocate_nothing():
    check_steady_state("one_get.lua")


def test_requests_with_options_and_json_allocate_nothing():
    check_steady_state("alloc_options.lua")


if __name__ == "__main__":
    run_tests(globals())
