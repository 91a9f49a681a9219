"""Bad input to `cicada run`: a clear message, exit code 2, and no traffic at all."""

import json
import pathlib
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests
from servers import silent_listener

SCENARIOS = REPO_ROOT / "tests" / "integration" / "scenarios"


def run_against_listener(args):
    """Runs cicada with -H pointing at a listener that records every connection."""
    with silent_listener() as listener:
        result = run_cicada(["run", *args, "-H", listener.url, "-u", "2", "-t", "5s"], timeout=30)
        connections = len(listener.connections)
    return result, connections


def test_syntax_error_names_file_and_line_and_sends_nothing():
    result, connections = run_against_listener([SCENARIOS / "syntax_error.lua"])
    assert result.returncode == 2, result
    assert f"{SCENARIOS / 'syntax_error.lua'}:5: ')' expected (to close '(' at line 4) near 'end'" in result.stderr, result.stderr
    assert connections == 0
    assert result.stdout == ""


def test_long_script_paths_are_named_in_full():
    # LuaJIT shortens file names of 60 characters or more to "...<last 56>"; the user must
    # still see which file it was, wherever the checkout lives.
    with tempfile.TemporaryDirectory() as directory:
        deep = pathlib.Path(directory) / "a-directory-name-long-enough" / "to-push-the-path-past-sixty"
        deep.mkdir(parents=True)
        broken = deep / "syntax_error.lua"
        broken.write_text((SCENARIOS / "syntax_error.lua").read_text())
        result, connections = run_against_listener([broken])
        assert result.returncode == 2, result
        assert f"{broken}:5: ')' expected" in result.stderr, result.stderr
        assert connections == 0

        failing_task = deep / "failing_task.lua"
        failing_task.write_text(
            'local cicada = require "cicada"\n'
            'local U = cicada.user("U")\n'
            'U:task(function(self) error("task broke") end)\n'
            'cicada.teardown(function() error("teardown broke") end)\n')
        report = pathlib.Path(directory) / "run.json"
        result = run_cicada(["run", failing_task, "-H", "http://127.0.0.1:9", "-u", "1",
                             "--iterations", "2", "--only-summary", "--json-file", report], timeout=30)
        exceptions = json.loads(report.read_text())["exceptions"]
        assert exceptions and exceptions[0]["message"].startswith(f"{failing_task}:3: task broke"), exceptions
        assert str(failing_task) in exceptions[0]["traceback"], exceptions
        # The coordinator's own errors (teardown, the load shape) name it in full too.
        assert f"cicada.teardown() failed: {failing_task}:4: teardown broke" in result.stderr, result.stderr
        assert any(e["message"].startswith(f"cicada.teardown() failed: {failing_task}:4:") for e in exceptions), \
            exceptions


def test_runtime_error_while_loading_has_a_traceback():
    result, connections = run_against_listener([SCENARIOS / "runtime_error.lua"])
    assert result.returncode == 2
    assert "runtime_error.lua:5: attempt to index local 'settings' (a nil value)" in result.stderr, result.stderr
    assert "stack traceback:" in result.stderr
    assert connections == 0


def test_missing_script():
    result = run_cicada(["run", "/nonexistent/scenario.lua", "-H", "http://127.0.0.1:9"], timeout=30)
    assert result.returncode == 2
    assert "cannot open /nonexistent/scenario.lua" in result.stderr, result.stderr


def test_unknown_user_class_lists_the_known_ones():
    result, connections = run_against_listener([SCENARIOS / "two_requests.lua", "C"])
    assert result.returncode == 2
    assert "unknown user class 'C' (the script defines: A, B)" in result.stderr, result.stderr
    assert connections == 0


def test_class_without_tasks_and_script_without_classes():
    result, _ = run_against_listener([SCENARIOS / "no_tasks.lua"])
    assert result.returncode == 2
    assert "user class 'Idle' has no tasks" in result.stderr, result.stderr
    result, _ = run_against_listener([SCENARIOS / "no_classes.lua"])
    assert result.returncode == 2
    assert "no user classes" in result.stderr, result.stderr


def test_host_problems():
    missing = run_cicada(["run", SCENARIOS / "one_get.lua", "-i", "1"], timeout=30)
    assert missing.returncode == 2
    assert "no host for user class 'U'" in missing.stderr, missing.stderr
    malformed = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", "127.0.0.1:8080", "-i", "1"], timeout=30)
    assert malformed.returncode == 2
    assert "must start with http:// or https://" in malformed.stderr, malformed.stderr


def test_usage_errors():
    bad_flag = run_cicada(["run", SCENARIOS / "one_get.lua", "--users", "lots"], timeout=30)
    assert bad_flag.returncode == 2
    assert "users needs a whole number >= 0, got 'lots'" in bad_flag.stderr, bad_flag.stderr
    no_script = run_cicada(["run"], timeout=30)
    assert no_script.returncode == 2
    unknown = run_cicada(["frobnicate"], timeout=30)
    assert unknown.returncode == 2
    assert "unknown command" in unknown.stderr
    helped = run_cicada(["run", "--help"], timeout=30)
    assert helped.returncode == 0 and "--spawn-rate" in helped.stdout


def test_more_users_than_open_files_is_said_before_starting():
    with silent_listener() as listener:
        result = run_cicada(["run", SCENARIOS / "one_get.lua", "-H", listener.url, "-u", "30000", "-t", "5s"], timeout=30)
        assert result.returncode == 2
        assert "30000 users need about" in result.stderr and "open files" in result.stderr, result.stderr
        assert len(listener.connections) == 0


def test_bad_dsl_calls_are_reported_at_load_time():
    with tempfile.TemporaryDirectory() as directory:
        script = pathlib.Path(directory) / "bad.lua"
        script.write_text('local cicada = require "cicada"\nlocal U = cicada.user("U", { weigth = 2 })\n')
        result, connections = run_against_listener([script])
        assert result.returncode == 2
        assert f'{script}:2: cicada.user("U"): unknown option "weigth"' in result.stderr, result.stderr
        assert connections == 0


def test_require_finds_modules_next_to_the_script():
    with tempfile.TemporaryDirectory() as directory:
        lib = pathlib.Path(directory) / "lib"
        lib.mkdir()
        (lib / "paths.lua").write_text('return { home = "/" }\n')
        script = pathlib.Path(directory) / "uses_lib.lua"
        script.write_text('local cicada = require "cicada"\nlocal paths = require "lib.paths"\n'
                          'local U = cicada.user("U")\nU:task(function(self) self.client:get(paths.home) end)\n'
                          'require "lib.missing"\n')
        result, _ = run_against_listener([script])
        assert result.returncode == 2
        # lib.paths loaded; the error is about lib.missing and shows where it was looked for.
        assert "module 'lib.missing' not found" in result.stderr, result.stderr
        assert f"{directory}/lib/missing.lua" in result.stderr


if __name__ == "__main__":
    run_tests(globals())
