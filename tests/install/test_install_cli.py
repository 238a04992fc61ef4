"""``ghostenv install`` through the real CLI against the fixture index."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import run_ghostenv
from tests.support.index_plugin import REPO, build_backend_links
from tests.support.index_server import IndexServer

PY = "3.12"


def install(env: Path, index: IndexServer, *args: str, check: bool = True,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_ghostenv("install", "--venv", str(env), "--python", PY, "--index-url",
                        index.simple_url, *args, check=check, cwd=cwd)


def versions(env: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json;"
            "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))")
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True,
                         text=True, check=True).stdout
    return dict(json.loads(out))


def files_requested(index: IndexServer) -> list[str]:
    return [r.path for r in index.requests if r.path.startswith("/files/")]


def test_install_resolves_for_the_env_and_keeps_what_satisfies(
        tmp_path: Path, cache_dir: Path, fixture_index: IndexServer) -> None:
    env = tmp_path / "env"
    first = install(env, fixture_index, "alpha")
    assert "Installed 3 packages" in first.stderr
    assert versions(env) == {"alpha": "1.1.0", "beta": "1.2.0", "gamma": "1.0.0"}
    assert (env / "lib" / "python3.12" / "site-packages" / "alpha-1.1.0.dist-info"
            / "REQUESTED").exists()
    assert not (env / "lib" / "python3.12" / "site-packages" / "beta-1.2.0.dist-info"
                / "REQUESTED").exists()

    fixture_index.reset()
    again = install(env, fixture_index, "alpha")
    assert again.stderr.startswith("Audited 3 packages"), again.stderr
    assert fixture_index.requests == []  # satisfied by what is installed: no index at all
    install(env, fixture_index, "alpha>=1.1", "beta")
    assert fixture_index.requests == []
    install(env, fixture_index, "alpha>1.1", check=False)  # unsatisfied: asks the index
    assert fixture_index.requests != []
    fixture_index.reset()

    # an explicit older pin replaces the installed version, the rest stays
    down = install(env, fixture_index, "beta==1.0.0", "-v")
    assert "~ beta 1.2.0 -> 1.0.0" in down.stderr
    assert versions(env)["beta"] == "1.0.0"
    assert versions(env)["alpha"] == "1.1.0"


def test_requirements_file_constraints_and_no_deps(
        tmp_path: Path, cache_dir: Path, fixture_index: IndexServer) -> None:
    (tmp_path / "c.txt").write_text("beta<1.2  # not the newest\n")
    (tmp_path / "r.txt").write_text("# comment\n-c c.txt\nalpha==1.0.0\n")
    env = tmp_path / "env"
    install(env, fixture_index, "-r", str(tmp_path / "r.txt"))
    assert versions(env) == {"alpha": "1.0.0", "beta": "1.0.0", "gamma": "1.0.0"}

    other = tmp_path / "other"
    install(other, fixture_index, "alpha", "--no-deps")
    assert versions(other) == {"alpha": "1.1.0"}


def test_local_wheel_and_unknown_project(tmp_path: Path, cache_dir: Path,
                                         fixture_index: IndexServer,
                                         fixture_wheels: Path) -> None:
    env = tmp_path / "env"
    wheel = tmp_path / "gamma-1.0.0-py3-none-any.whl"
    shutil.copy(fixture_wheels / wheel.name, wheel)
    install(env, fixture_index, str(wheel))
    site = env / "lib" / "python3.12" / "site-packages"
    direct = json.loads((site / "gamma-1.0.0.dist-info" / "direct_url.json").read_text())
    assert direct["url"] == wheel.as_uri()

    bad = install(env, fixture_index, "no-such-project", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ")
    assert "no-such-project" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_editable_project(tmp_path: Path, cache_dir: Path, fixture_index: IndexServer) -> None:
    links = build_backend_links()
    project = tmp_path / "build-hatchling"
    shutil.copytree(REPO / "fixtures" / "projects" / "build-hatchling", project)
    env = tmp_path / "env"
    install(env, fixture_index, "--find-links", str(links), "-e", str(project))
    site = env / "lib" / "python3.12" / "site-packages"
    direct = json.loads((site / "bhatch-2.0.0.dist-info" / "direct_url.json").read_text())
    assert direct == {"url": project.as_uri(), "dir_info": {"editable": True}}
    (project / "bhatch" / "__init__.py").write_text("EDITED = 'yes'\n")
    out = subprocess.run([str(env / "bin" / "python"), "-c", "import bhatch; print(bhatch.EDITED)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "yes"


def test_fully_pinned_requirements_are_remembered(tmp_path: Path, cache_dir: Path,
                                                  fixture_index: IndexServer) -> None:
    pins = tmp_path / "pins.txt"
    pins.write_text("alpha==1.0.0\nbeta==1.2.0\ngamma==1.0.0\n")
    install(tmp_path / "one", fixture_index, "-r", str(pins))
    fixture_index.reset()
    install(tmp_path / "two", fixture_index, "-r", str(pins))
    assert fixture_index.requests == []  # no page, no file: resolution and wheels remembered
    assert versions(tmp_path / "two") == {"alpha": "1.0.0", "beta": "1.2.0", "gamma": "1.0.0"}
    # not fully pinned: the index is asked again
    install(tmp_path / "three", fixture_index, "alpha==1.0.0")
    assert any(r.path.startswith("/simple/") for r in fixture_index.requests)


def test_incompatible_local_wheel_is_refused(tmp_path: Path, cache_dir: Path,
                                             fixture_index: IndexServer) -> None:
    from tests.store.wheelbuild import make_wheel

    wheel = make_wheel(tmp_path, "native", tag="cp27-cp27m-win32")
    proc = install(tmp_path / "env", fixture_index, str(wheel), check=False)
    assert proc.returncode == 1
    assert "native-1.0-cp27-cp27m-win32.whl is not compatible with cpython-3.12" in proc.stderr


def test_url_requirements(tmp_path: Path, cache_dir: Path, fixture_index: IndexServer,
                          fixture_wheels: Path) -> None:
    env = tmp_path / "env"
    url = fixture_index.files_url + "gamma-1.0.0-py3-none-any.whl"
    install(env, fixture_index, f"gamma @ {url}")
    site = env / "lib" / "python3.12" / "site-packages"
    direct = json.loads((site / "gamma-1.0.0.dist-info" / "direct_url.json").read_text())
    assert direct == {"url": url, "archive_info": {}}
    other = tmp_path / "other"
    file_url = (fixture_wheels / "beta-1.0.0-py3-none-any.whl").as_uri()
    install(other, fixture_index, f"beta @ {file_url}")
    assert versions(other) == {"beta": "1.0.0"}


def test_two_installs_into_one_env_at_once(tmp_path: Path, cache_dir: Path,
                                           fixture_index: IndexServer) -> None:
    import os
    import sys

    env = tmp_path / "env"
    install(env, fixture_index, "gamma")  # the env exists before the race
    base = [sys.executable, "-m", "ghostenv", "install", "--venv", str(env), "--index-url",
            fixture_index.simple_url]
    environ = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache_dir)}
    procs = [subprocess.Popen([*base, req], env=environ, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for req in ("alpha==1.0.0", "zeta-big")]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    assert versions(env) == {"alpha": "1.0.0", "beta": "1.2.0", "gamma": "1.0.0",
                             "zeta-big": "1.0.0"}


def test_exact_and_compile_bytecode(tmp_path: Path, cache_dir: Path,
                                    fixture_index: IndexServer) -> None:
    env = tmp_path / "env"
    install(env, fixture_index, "beta==1.0.0")
    install(env, fixture_index, "gamma", "--exact", "--compile-bytecode")
    assert versions(env) == {"gamma": "1.0.0"}
    site = env / "lib" / "python3.12" / "site-packages"
    assert list((site / "gamma" / "__pycache__").glob("__init__.cpython-312.pyc"))
