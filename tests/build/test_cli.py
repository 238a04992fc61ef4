"""``ghostenv build`` end to end (subprocess), with the inline and failing in-tree backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.build.conftest import Backends
from tests.conftest import run_ghostenv
from tests.support.index_server import IndexServer


def _args(index: IndexServer, backends: Backends) -> list[str]:
    return ["--python", "3.12", "--index-url", index.simple_url, *backends.cli_args()]


def test_build_prints_the_wheel_and_caches(project: Callable[[str], Path], cache_dir: Path,
                                           fixture_index: IndexServer, backends: Backends,
                                           tmp_path: Path) -> None:
    source = project("build-inline")
    log = tmp_path / "hooks.log"
    env = {"GHOSTENV_TEST_BACKEND_LOG": str(log)}
    proc = run_ghostenv("build", str(source), *_args(fixture_index, backends), env=env,
                        check=True)
    wheel = source / "dist" / "binline-0.1.0-py3-none-any.whl"
    assert proc.stdout.strip() == str(wheel)
    assert wheel.is_file()
    assert "Built binline-0.1.0-py3-none-any.whl" in proc.stderr
    assert "cached" not in proc.stderr
    calls = log.read_text()
    out = tmp_path / "out"
    proc = run_ghostenv("build", str(source), "--out-dir", str(out),
                        *_args(fixture_index, backends), env=env, check=True)
    assert (out / wheel.name).read_bytes() == wheel.read_bytes()
    assert "(cached: source unchanged)" in proc.stderr
    assert log.read_text() == calls  # the backend did not run again


def test_build_editable(project: Callable[[str], Path], build_cache: Path,
                        fixture_index: IndexServer, backends: Backends, tmp_path: Path) -> None:
    source = project("build-hatchling")
    (source / "bhatch" / "cli.py").write_text(f"# {tmp_path}\n")  # a tree never built before
    proc = run_ghostenv("build", str(source), "--editable", "-o", str(tmp_path / "o"),
                        *_args(fixture_index, backends), check=True,
                        env={"GHOSTENV_CACHE_DIR": str(build_cache)})  # backends ready
    path = Path(proc.stdout.strip())
    assert path.name == "bhatch-2.0.0-py3-none-any.whl"
    assert path.parent == tmp_path / "o"


def test_build_failure_is_one_error_line(project: Callable[[str], Path], cache_dir: Path,
                                         fixture_index: IndexServer,
                                         backends: Backends) -> None:
    source = project("build-failing")
    proc = run_ghostenv("build", str(source), *_args(fixture_index, backends))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr.split("hint:")[0]
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: bfailing: build backend `failing_backend` failed in "
                            "build_wheel")
    assert first.endswith("RuntimeError: bfailing: the compiler exploded")
    assert "warning: something looks off" not in proc.stderr  # only with -v
    verbose = run_ghostenv("build", "-v", str(source), *_args(fixture_index, backends))
    assert verbose.returncode == 1
    assert "warning: something looks off" in verbose.stderr


def test_concurrent_builds_run_the_backend_once(project: Callable[[str], Path], cache_dir: Path,
                                                fixture_index: IndexServer, backends: Backends,
                                                tmp_path: Path) -> None:
    """Two processes building one tree at once: one builds, the other waits and reuses."""
    import os
    import subprocess
    import sys

    source = project("build-inline")
    log = tmp_path / "hooks.log"
    env = {**os.environ, "GHOSTENV_TEST_BACKEND_LOG": str(log)}
    cmd = [sys.executable, "-m", "ghostenv", "build", str(source), "-o", "{out}",
           *_args(fixture_index, backends)]
    procs = [subprocess.Popen([a.replace("{out}", str(tmp_path / f"o{i}")) for a in cmd],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert log.read_text().split().count("build_wheel") == 1
    assert (tmp_path / "o0" / "binline-0.1.0-py3-none-any.whl").read_bytes() == (
        tmp_path / "o1" / "binline-0.1.0-py3-none-any.whl").read_bytes()


def test_build_sdist_then_its_wheel(project: Callable[[str], Path], build_cache: Path,
                                    fixture_index: IndexServer, backends: Backends,
                                    tmp_path: Path) -> None:
    import tarfile

    source = project("build-flit")
    env = {"GHOSTENV_CACHE_DIR": str(build_cache)}
    proc = run_ghostenv("build", str(source), "--sdist", "-o", str(tmp_path / "s"),
                        *_args(fixture_index, backends), check=True, env=env)
    sdist = Path(proc.stdout.strip())
    assert sdist.name == "bflit-0.3.0.tar.gz"
    with tarfile.open(sdist) as tf:
        assert "bflit-0.3.0/bflit.py" in tf.getnames()
    proc = run_ghostenv("build", str(sdist), "-o", str(tmp_path / "w"),
                        *_args(fixture_index, backends), check=True, env=env)
    assert Path(proc.stdout.strip()) == tmp_path / "w" / "bflit-0.3.0-py3-none-any.whl"


def test_config_settings_reach_the_backend_and_the_key(project: Callable[[str], Path],
                                                       cache_dir: Path,
                                                       fixture_index: IndexServer,
                                                       backends: Backends,
                                                       tmp_path: Path) -> None:
    source = project("build-inline")
    log = tmp_path / "hooks.log"
    env = {"GHOSTENV_TEST_BACKEND_LOG": str(log)}
    common = ["build", str(source), *_args(fixture_index, backends)]
    run_ghostenv(*common, "-C", "mode=fast", "-C", "x=1", "-C", "x=2", env=env, check=True)
    assert "config=mode:fast,x:['1', '2']" in log.read_text().splitlines()
    run_ghostenv(*common, "-C", "mode=fast", "-C", "x=1", "-C", "x=2", env=env, check=True)
    assert log.read_text().split().count("build_wheel") == 1  # same settings: cached
    run_ghostenv(*common, "-C", "mode=slow", env=env, check=True)
    assert log.read_text().split().count("build_wheel") == 2  # other settings: built again
    assert log.read_text().splitlines()[-1] == "config=mode:slow"
