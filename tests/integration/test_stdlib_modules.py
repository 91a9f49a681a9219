"""The stdlib as modules (stdlib/cicada/*.lua): the scripts' `cicada` table holds the API only,
and a misuse caught deep in a module still points at the script's line."""

import pathlib
import tempfile

from harness import run_cicada, run_tests


def run_script(text, *args):
    with tempfile.TemporaryDirectory() as directory:
        script = pathlib.Path(directory) / "probe.lua"
        script.write_text(text)
        return script, run_cicada(["run", script, *args], timeout=30)


def test_the_public_table_holds_the_api_only():
    script, result = run_script(
        'local cicada = require "cicada"\n'
        'local names = {}\n'
        'for name in pairs(cicada) do names[#names + 1] = name end\n'
        'table.sort(names)\n'
        'error("names: " .. table.concat(names, " "))\n')
    assert result.returncode == 2
    names = result.stderr.split("names: ", 1)[1].split("\n", 1)[0].split()
    assert "user" in names and "thresholds" in names and "stages" in names and "on" in names, names
    hooks = [name for name in names if name.startswith("_")]
    assert hooks == [], f"runtime hooks in the public table: {hooks}"


def test_a_misuse_inside_a_module_points_at_the_script_line():
    script, result = run_script(
        'local cicada = require "cicada"\n'
        'local U = cicada.user("U", { host = "http://127.0.0.1:1" })\n'
        'U:task(function() end)\n'
        'cicada.stages { { duration = "soon", users = 1 } }\n')
    assert result.returncode == 2
    assert f'{script}:4: cicada.stages: stage 1: duration must be a duration' in result.stderr, result.stderr

    script, result = run_script(
        'local cicada = require "cicada"\n'
        'cicada.thresholds { p95 = "<100ms" }\n'
        'cicada.thresholds { ["p99"] = { "<1s", delay = "5s" } }\n')
    assert result.returncode == 2
    assert f'{script}:3: cicada.thresholds: ["p99"]: delay only applies with abort_on_fail = true' in result.stderr, \
        result.stderr


def test_a_script_without_cicada_is_told_so():
    script, result = run_script('local x = 1\n')
    assert result.returncode == 2
    assert "the script never loaded cicada" in result.stderr, result.stderr


if __name__ == "__main__":
    run_tests(globals())
