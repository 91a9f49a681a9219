"""The option table is the one source of every option: docs/cli.md's table, `cicada run --help`,
the layers and cicada.options{} all follow it."""

import pathlib
import re
import tempfile

from harness import REPO_ROOT, run_cicada, run_tests

BEGIN = "<!-- options-table:begin"
END = "<!-- options-table:end -->"


def table_rows():
    listed = run_cicada(["options"], timeout=30)
    assert listed.returncode == 0, listed.stderr
    # Fixed columns: option (26), environment (30), cicada.options{} (22), default.
    rows = [(line[:26].strip(), line[27:57].strip(), line[58:80].strip(), line[81:].strip())
            for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert len(rows) > 25, listed.stdout
    return rows


def test_docs_table_is_the_option_table():
    generated = run_cicada(["options", "--markdown"], timeout=30)
    assert generated.returncode == 0, generated.stderr
    docs = (REPO_ROOT / "docs" / "cli.md").read_text()
    assert BEGIN in docs and END in docs, "docs/cli.md lost its options-table markers"
    block = docs.split(BEGIN, 1)[1].split("\n", 1)[1].split(END, 1)[0]
    assert block == generated.stdout, (
        "docs/cli.md's option table differs from the option table; regenerate it with "
        "`cicada options --markdown`:\n" + generated.stdout)


def test_help_names_every_option():
    helped = run_cicada(["run", "--help"], timeout=30)
    assert helped.returncode == 0
    for row in table_rows():
        long_name = row[0].split()[-1]
        assert re.search(rf"{re.escape(long_name)}\b", helped.stdout), f"{long_name} missing from --help"


def test_every_variable_of_the_table_is_read():
    # A variable named in the table sets its option: a bad value is reported under its name.
    for row in table_rows():
        variable = row[1]
        assert variable.startswith("CICADA_"), row
        if variable in ("CICADA_LOCUSTFILE", "CICADA_CONFIG", "CICADA_HOST", "CICADA_CSV", "CICADA_HTML",
                        "CICADA_JSON_FILE", "CICADA_JUNIT", "CICADA_TAGS", "CICADA_EXCLUDE_TAGS", "CICADA_WEB_HOST",
                        "CICADA_WEB_AUTH", "CICADA_MASTER_HOST", "CICADA_MASTER_BIND_HOST"):
            continue  # text options take any value
        result = run_cicada(["run", "missing.lua"], env={variable: "not-a-value"}, timeout=30)
        assert result.returncode == 2, (variable, result.stderr)
        assert f"{variable}: " in result.stderr, (variable, result.stderr)
        assert "needs" in result.stderr or "threshold 'not-a-value'" in result.stderr, (variable, result.stderr)


def test_script_options_follow_the_table():
    with tempfile.TemporaryDirectory() as directory:
        script = pathlib.Path(directory) / "opts.lua"
        script.write_text('local cicada = require "cicada"\n'
                          'cicada.options { user = 3 }\n')
        unknown = run_cicada(["run", script], timeout=30)
        assert unknown.returncode == 2
        assert f'{script}:2: cicada.options: unknown option "user"' in unknown.stderr, unknown.stderr
        script_keys = sorted(row[2] for row in table_rows() if row[2] != "-")
        assert "users" in script_keys and "run_time" in script_keys, script_keys
        assert "(known: " + ", ".join(script_keys) + ")" in unknown.stderr, (script_keys, unknown.stderr)

        script.write_text('local cicada = require "cicada"\n'
                          'cicada.options { run_time = {} }\n')
        typed = run_cicada(["run", script], timeout=30)
        assert typed.returncode == 2
        assert f'{script}:2: cicada.options: run_time must be a string like "30s" or a number' in typed.stderr, \
            typed.stderr


if __name__ == "__main__":
    run_tests(globals())
