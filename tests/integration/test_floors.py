"""The folder floors (scripts/check-floors): the tree passes, and an include that goes up fails."""

import shutil
import subprocess
import tempfile
import pathlib

from harness import REPO_ROOT, run_tests

CHECK = REPO_ROOT / "scripts" / "check-floors"


def check(root):
    return subprocess.run([CHECK, root], capture_output=True, text=True, timeout=60)


def copy_of_tree(into):
    for folder in ("runtime", "bindings"):
        shutil.copytree(REPO_ROOT / folder, into / folder)


def test_the_tree_keeps_its_floors():
    result = check(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    files = int(result.stdout.rsplit("check-floors: ", 1)[1].split()[0])
    assert files > 100, result.stdout  # the check read the tree, not an empty folder


def test_an_include_from_a_floor_above_fails():
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        copy_of_tree(root)
        histogram = root / "runtime" / "stats" / "histogram.cpp"
        histogram.write_text('#include "runtime/http/client.h"\n' + histogram.read_text())
        result = check(root)
        assert result.returncode == 1, result.stdout
        assert "runtime/stats/histogram.cpp:1: runtime/stats includes runtime/http/client.h" in result.stdout


def test_a_folder_on_no_floor_fails():
    with tempfile.TemporaryDirectory() as scratch:
        root = pathlib.Path(scratch)
        copy_of_tree(root)
        (root / "runtime" / "attic").mkdir()
        (root / "runtime" / "attic" / "old.cpp").write_text("int old;\n")
        result = check(root)
        assert result.returncode == 1, result.stdout
        assert "runtime/attic/old.cpp: folder not on any floor" in result.stdout


if __name__ == "__main__":
    run_tests(globals())
