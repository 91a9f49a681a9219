"""examples/distributed/Dockerfile (docs/distributed.md#containers-and-kubernetes) cannot be
built here (no container daemon in CI), so what it depends on is checked against the binary and
scripts/setup: the runtime stage installs the Debian package of every library the binary
links, and the build stage every build package scripts/setup installs."""

import re
import subprocess

from harness import REPO_ROOT, cicada_bin, run_tests

DOCKERFILE = REPO_ROOT / "examples" / "distributed" / "Dockerfile"
# In every debian:bookworm-slim image already.
BASE_PACKAGES = {"libc6", "libstdc++6", "libgcc-s1"}


def stages():
    """The packages each stage's apt-get install lists, in order."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [set(re.sub(r"&&.*", "", block).split()) - {"-y", "--no-install-recommends"}
            for block in re.findall(r"apt-get install (.*)", text)]


def package_of(path):
    result = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if result.returncode != 0:  # merged /usr: the package may own the other spelling
        other = path.replace("/usr/lib/", "/lib/", 1) if path.startswith("/usr/") else "/usr" + path
        result = subprocess.run(["dpkg", "-S", other], capture_output=True, text=True)
    assert result.returncode == 0, (path, result.stderr)
    return result.stdout.split(":", 1)[0]


def test_the_runtime_stage_has_every_library_the_binary_links():
    needed = re.findall(r"\(NEEDED\).*\[(.+)\]", subprocess.run(["readelf", "-d", cicada_bin()], capture_output=True,
                                                                 text=True, check=True).stdout)
    assert "libzmq.so.5" in needed and "libuv.so.1" in needed, needed
    resolved = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(["ldd", cicada_bin()], capture_output=True,
                                                                       text=True, check=True).stdout, re.M))
    # A sanitizer build (CI runs these tests with one too) links its runtime as well.
    needed = [library for library in needed if not re.match(r"lib(asan|ubsan|tsan)\.", library)]
    packages = {package_of(resolved[library]) for library in needed if library in resolved}
    runtime = stages()[-1]
    assert packages - BASE_PACKAGES <= runtime, (packages - BASE_PACKAGES - runtime, runtime)


def test_the_build_stage_has_what_scripts_setup_installs_to_build():
    setup = (REPO_ROOT / "scripts" / "setup").read_text()
    block = setup.split("packages=(", 1)[1].split("\n)", 1)[0]
    lines = [line.split("#", 1)[0].split() for line in block.splitlines()]
    wanted = {p for line in lines for p in line}
    # Test-only tools: servers, browsers, Locust, fuzzing; the image builds the binary only.
    test_only = {"nginx-light", "wrk", "procps", "chromium", "python3-locust", "python3-prometheus-client",
                 "python3-zmq", "python3-msgpack", "clang", "libclang-rt-14-dev"}
    build = stages()[0]
    assert wanted - test_only <= build, (wanted - test_only - build)


if __name__ == "__main__":
    run_tests(globals())
