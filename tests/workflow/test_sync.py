"""``ghostenv sync --frozen`` end to end: a real uv.lock (written by uv) against the fixture index.

Nothing is faked: uv locks against the local HTTP index, ghostenv downloads
from it into a store in tmp_path, writes a real venv and the tests run that
venv's python.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_ghostenv

UV = Path(sys.executable).parent / "uv"

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha", "epsilon-tool"]
"""


def _lock(project: Path, index: Any, tmp_path: Path) -> None:
    if not UV.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    proc = subprocess.run(
        [str(UV), "lock", "--no-config", "--index-url", index.simple_url,
         "--python", sys.executable, "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (project / "uv.lock").is_file()


def _locked_versions(project: Path) -> dict[str, str]:
    from ghostenv.lock.read import read_lock

    lock = read_lock(project / "uv.lock")
    return {p.name: p.version or "" for p in lock.packages if p.source.kind == "registry"}


def _installed(env: Path) -> dict[str, str]:
    code = ("import importlib.metadata as m, json; "
            "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True,
                         text=True, check=True).stdout
    import json

    return {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in json.loads(out).items()}


@pytest.fixture
def project(tmp_path: Path, fixture_index: Any) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    _lock(root, fixture_index, tmp_path)
    return root


def _sync(project: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_ghostenv("sync", "--frozen", "--python", sys.executable, *extra, cwd=project,
                        env={"GHOSTENV_CACHE_DIR": str(cache)})


def test_sync_installs_locked_versions_and_scripts(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    proc = _sync(project, cache)
    assert proc.returncode == 0, proc.stderr
    locked = _locked_versions(project)
    assert set(locked) == {"alpha", "beta", "gamma", "epsilon-tool"}
    assert re.search(r"^Installed 4 packages in \d+ms", proc.stderr, re.M), proc.stderr
    env = project / ".venv"
    assert _installed(env) == locked
    imports = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import alpha, beta, gamma, epsilon_tool"],
        capture_output=True, text=True, check=False)
    assert imports.returncode == 0, imports.stderr
    script = subprocess.run([str(env / "bin" / "epsilon-tool")], capture_output=True, text=True,
                            check=False)
    assert script.returncode == 0, script.stderr
    data_script = subprocess.run([str(env / "bin" / "epsilon-data-script")],
                                 capture_output=True, text=True, check=False)
    assert data_script.stdout.strip() == "epsilon data script"

    again = _sync(project, cache)
    assert again.returncode == 0, again.stderr
    assert re.search(r"^Audited 4 packages in [\d.]+ms$", again.stderr, re.M), again.stderr


def test_warm_store_needs_no_download(project: Path, tmp_path: Path, fixture_index: Any) -> None:
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    assert [r for r in fixture_index.requests if ".whl" in str(r)], "cold sync downloads wheels"
    shutil.rmtree(project / ".venv")
    fixture_index.reset()
    proc = _sync(project, cache)
    assert proc.returncode == 0, proc.stderr
    assert "downloaded" not in proc.stderr
    assert not [r for r in fixture_index.requests if ".whl" in str(r)]
    assert _installed(project / ".venv") == _locked_versions(project)


def test_package_dropped_from_lock_is_removed(project: Path, tmp_path: Path,
                                              fixture_index: Any) -> None:
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    env = project / ".venv"
    assert (env / "bin" / "epsilon-tool").exists()
    (project / "pyproject.toml").write_text(PYPROJECT.replace(', "epsilon-tool"', ""))
    _lock(project, fixture_index, tmp_path)
    assert "epsilon-tool" not in _locked_versions(project)
    proc = _sync(project, cache)
    assert proc.returncode == 0, proc.stderr
    assert "removed 1" in proc.stderr
    assert "epsilon-tool" not in _installed(env)
    assert not (env / "bin" / "epsilon-tool").exists()
    assert not (env / "bin" / "epsilon-data-script").exists()


def test_hash_mismatch_is_one_error(project: Path, tmp_path: Path) -> None:
    lock = project / "uv.lock"
    text = lock.read_text()
    wheel_hash = re.search(r'alpha-[^"]+\.whl", hash = "sha256:([0-9a-f]{64})"', text)
    assert wheel_hash is not None
    lock.write_text(text.replace(wheel_hash.group(1), "0" * 64))
    proc = _sync(project, tmp_path / "cache")
    assert proc.returncode == 1, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert "alpha" in errors[0]
    assert "sha256" in errors[0]


def test_without_frozen_a_satisfying_lock_is_used_as_is(project: Path, tmp_path: Path,
                                                        fixture_index: Any) -> None:
    before = (project / "uv.lock").read_bytes()
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=project,
                        env={"GHOSTENV_CACHE_DIR": str(tmp_path / "c")})
    assert proc.returncode == 0, proc.stderr
    assert (project / "uv.lock").read_bytes() == before
    assert _installed(project / ".venv") == _locked_versions(project)


def test_locked_fails_when_the_lock_must_change(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    (project / "pyproject.toml").write_text(PYPROJECT.replace(', "epsilon-tool"', ', "delta"'))
    before = (project / "uv.lock").read_bytes()
    proc = run_ghostenv("sync", "--locked", "--python", sys.executable, cwd=project,
                        env={"GHOSTENV_CACHE_DIR": str(cache)})
    assert proc.returncode == 1, proc.stderr
    assert re.search(r"^error: .*uv\.lock needs to be updated", proc.stderr, re.M), proc.stderr
    assert (project / "uv.lock").read_bytes() == before
    # --frozen syncs the lock as it is: epsilon-tool stays, delta is not installed
    frozen = _sync(project, cache)
    assert frozen.returncode == 0, frozen.stderr
    assert "epsilon-tool" in _installed(project / ".venv")
    assert "delta" not in _installed(project / ".venv")


def test_project_with_build_system_is_installed_editable(project: Path, tmp_path: Path,
                                                         fixture_index: Any) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[build-system]\nrequires = ["hatchling"]\n'
                         'build-backend = "hatchling.build"\n')
    (project / "demo").mkdir()
    (project / "demo" / "__init__.py").write_text("VALUE = 1\n")
    _lock(project, fixture_index, tmp_path)
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "GHOSTENV_FIND_LINKS": str(links),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=project, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "built demo (editable)" in proc.stderr, proc.stderr
    python = str(project / ".venv" / "bin" / "python")
    code = "import demo; print(demo.__file__, demo.VALUE)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(project / "demo" / "__init__.py"), "1"]
    (project / "demo" / "__init__.py").write_text("VALUE = 2\n")  # editable: seen at once
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == "2"
    assert run_ghostenv("status", cwd=project, env=env).stdout == "fresh\n"
    again = run_ghostenv("sync", "--python", sys.executable, cwd=project, env=env)
    assert re.search(r"^Audited 5 packages", again.stderr, re.M), again.stderr


@pytest.mark.network
def test_readme_hello_example(tmp_path: Path) -> None:
    source = Path(__file__).parents[2] / "examples" / "hello"
    project = tmp_path / "hello"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".venv"))
    proc = _sync(project, tmp_path / "cache")
    if proc.returncode != 0 and ("HTTP" in proc.stderr or "connect" in proc.stderr.lower()):
        pytest.skip("PyPI unreachable")
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([str(project / ".venv" / "bin" / "python"), "hello.py"], cwd=project,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("hello from ghostenv.example")


def test_other_minor_version_recreates_the_environment(project: Path, tmp_path: Path) -> None:
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next((p for p in sorted(Path(_pyenv_root(), "versions").glob("3.1[1-3]*/bin/python3"))
                  if p.exists() and not p.parent.parent.name.startswith(mine + ".")), None)
    if other is None:
        pytest.skip("no other Python 3.11-3.13 under pyenv")
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    proc = run_ghostenv("sync", "--frozen", "--python", str(other), cwd=project,
                        env={"GHOSTENV_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"^warning: recreated .*\.venv: it was made for Python {re.escape(mine)}",
                     proc.stderr, re.M), proc.stderr
    env = project / ".venv"
    version = subprocess.run([str(env / "bin" / "python"), "-c",
                              "import sys, alpha; print(sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout
    assert version.strip() != str(sys.version_info[:2])
    assert not list(env.glob(f"lib/python{mine}"))
    assert _installed(env) == _locked_versions(project)


def _pyenv_root() -> str:
    proc = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or str(Path.home() / ".pyenv")


def test_interrupted_install_is_completed(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    site = next((project / ".venv" / "lib").glob("python*/site-packages"))
    alpha = next(site.glob("alpha-*.dist-info"))
    (alpha / "RECORD").unlink()  # what a sync killed inside install_wheel leaves
    (site / "alpha" / "__init__.py").unlink()
    (project / ".venv" / ".ghostenv-gate").unlink()  # dropped before a sync changes anything
    proc = _sync(project, cache)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"^Installed 1 package in", proc.stderr, re.M), proc.stderr
    assert (alpha / "RECORD").is_file()
    assert (site / "alpha" / "__init__.py").is_file()


def test_sdist_only_package_is_built_and_installed(project: Path, tmp_path: Path,
                                                   fixture_index: Any) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    lock = project / "uv.lock"
    text = lock.read_text()
    start = text.index("[[package]]\nname = \"beta\"")
    wheels = text.index("wheels = [", start)
    end = text.index("]\n", wheels) + 2
    lock.write_text(text[:wheels] + text[end:])
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "GHOSTENV_FIND_LINKS": str(links),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    proc = run_ghostenv("sync", "--frozen", "--python", sys.executable, cwd=project, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "built beta" in proc.stderr, proc.stderr
    assert _installed(project / ".venv") == _locked_versions(project)
    shutil.rmtree(project / ".venv")
    again = run_ghostenv("sync", "--frozen", "--python", sys.executable, "-v", cwd=project,
                         env=env)
    assert again.returncode == 0, again.stderr
    assert "cached wheel beta-1.2.0-py3-none-any.whl" in again.stderr, again.stderr


def test_concurrent_syncs_both_complete(project: Path, tmp_path: Path) -> None:
    env = {**__import__("os").environ, "GHOSTENV_CACHE_DIR": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "ghostenv", "sync", "--frozen", "--python", sys.executable]
    procs = [subprocess.Popen(command, cwd=project, env=env, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    # the second one either waited for the first and found the env fresh, or ran after it
    assert sum("Installed 4 packages" in o for o in outputs) == 1, outputs
    assert sum(bool(re.search(r"^(Installed 0|Audited 4) packages", o, re.M))
               for o in outputs) == 1, outputs
    assert _installed(project / ".venv") == _locked_versions(project)


def test_uv_and_ghostenv_accept_each_others_environment(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _sync(project, cache).returncode == 0
    uv = subprocess.run(
        [str(UV), "sync", "--frozen", "--offline", "--no-config", "--python",
         str(project / ".venv" / "bin" / "python"), "--cache-dir", str(tmp_path / "uv-empty")],
        cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert uv.returncode == 0, uv.stderr
    assert "Checked 4 packages" in uv.stderr, uv.stderr  # nothing reinstalled, nothing removed
    again = _sync(project, cache)
    assert again.returncode == 0, again.stderr
    # uv's check changed nothing in the environment, so the gate still calls it fresh
    assert re.search(r"^Audited 4 packages in", again.stderr, re.M), again.stderr
    # an environment uv made: not ghostenv's, synced once (nothing to install), then fresh
    shutil.rmtree(project / ".venv")
    uv = subprocess.run(
        [str(UV), "sync", "--frozen", "--no-config", "--python", sys.executable,
         "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert uv.returncode == 0, uv.stderr
    status = run_ghostenv("status", cwd=project, env={"GHOSTENV_CACHE_DIR": str(cache)})
    assert (status.returncode, status.stdout) == (1, ".venv was not synced by ghostenv\n")
    again = _sync(project, cache)
    assert re.search(r"^Installed 0 packages in", again.stderr, re.M), again.stderr


@pytest.mark.network
def test_web_workload_matches_uv_freeze(tmp_path: Path) -> None:
    """uv locks and syncs the `web` workload; ghostenv syncs the same lock: same freeze."""
    workload = Path(__file__).parents[3] / "shared" / "workloads" / "web" / "pyproject.toml"
    if not workload.is_file() or not UV.exists():
        pytest.skip("needs ../shared/workloads/web and uv")
    dirs = {}
    for name in ("uv", "ghostenv"):
        dirs[name] = tmp_path / name
        dirs[name].mkdir()
        shutil.copy(workload, dirs[name])
    uv_env = {**__import__("os").environ, "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    lock = subprocess.run([str(UV), "lock", "--no-config", "--python", sys.executable],
                          cwd=dirs["uv"], capture_output=True, text=True, env=uv_env, check=False)
    if lock.returncode != 0:
        pytest.skip(f"uv lock failed (offline?): {lock.stderr[-200:]}")
    shutil.copy(dirs["uv"] / "uv.lock", dirs["ghostenv"])
    sync = subprocess.run([str(UV), "sync", "--no-config", "--frozen", "--python", sys.executable],
                          cwd=dirs["uv"], capture_output=True, text=True, env=uv_env, check=False)
    assert sync.returncode == 0, sync.stderr
    proc = _sync(dirs["ghostenv"], tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    freezes = [subprocess.run([str(UV), "pip", "freeze", "--python",
                               str(dirs[name] / ".venv" / "bin" / "python")],
                              capture_output=True, text=True, check=True).stdout
               for name in ("uv", "ghostenv")]
    assert freezes[0] == freezes[1]
    assert len(freezes[0].splitlines()) > 10


@pytest.mark.parametrize("editable", [True, False])
def test_local_directory_source_is_built(tmp_path: Path, fixture_index: Any,
                                         editable: bool) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    root = tmp_path / "app"
    (root / "lib" / "mylib").mkdir(parents=True)
    (root / "lib" / "pyproject.toml").write_text(
        '[project]\nname = "mylib"\nversion = "0.3.0"\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n')
    (root / "lib" / "mylib" / "__init__.py").write_text("WHERE = __file__\n")
    (root / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["mylib", "beta"]\n[tool.uv.sources]\n'
        f'mylib = {{ path = "lib", editable = {str(editable).lower()} }}\n')
    proc = subprocess.run(
        [str(UV), "lock", "--no-config", "--index-url", fixture_index.simple_url, "--find-links",
         str(links), "--python", sys.executable, "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "GHOSTENV_FIND_LINKS": str(links),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    sync = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert sync.returncode == 0, sync.stderr
    where = subprocess.run([str(root / ".venv" / "bin" / "python"), "-c",
                            "import mylib, beta; print(mylib.WHERE)"], capture_output=True,
                           text=True, check=True).stdout.strip()
    inside = where == str(root / "lib" / "mylib" / "__init__.py")
    assert inside is editable, where
    assert _installed(root / ".venv")["mylib"] == "0.3.0"


def test_workspace_root_installs_its_member_dependency(tmp_path: Path,
                                                       fixture_index: Any) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    root = tmp_path / "ws"
    (root / "packages" / "memb" / "memb").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "root"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["memb"]\n[tool.uv.sources]\nmemb = { workspace = true }\n'
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    (root / "packages" / "memb" / "pyproject.toml").write_text(
        '[project]\nname = "memb"\nversion = "0.2.0"\ndependencies = ["beta"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n')
    (root / "packages" / "memb" / "memb" / "__init__.py").write_text("X = 1\n")
    _lock(root, fixture_index, tmp_path)
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "GHOSTENV_FIND_LINKS": str(links),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(root / ".venv" / "bin" / "python"), "-c",
                          "import memb, beta; print(memb.__file__)"], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == str(root / "packages" / "memb" / "memb" / "__init__.py")
    member = run_ghostenv("sync", cwd=root / "packages" / "memb", env=env)
    assert member.returncode == 1
    assert "is a member of the workspace at" in member.stderr, member.stderr
    assert not (root / "packages" / "memb" / "uv.lock").exists()


def test_git_source_is_cloned_once_and_built(tmp_path: Path, fixture_index: Any) -> None:
    from tests.support.index_plugin import packse_dir

    links = packse_dir() / "index" / "vendor" / "build"
    if not (links / "hatchling-1.20.0-py3-none-any.whl").is_file() or not shutil.which("git"):
        pytest.skip("needs git and the hatchling wheel")
    repo = tmp_path / "repo"
    (repo / "glib").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "glib"\nversion = "1.0.0"\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n')
    (repo / "glib" / "__init__.py").write_text("V = 'from git'\n")
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(command, cwd=repo, check=True, capture_output=True)
    root = tmp_path / "gp"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "gp"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f'dependencies = ["glib"]\n[tool.uv.sources]\nglib = {{ git = "{repo.as_uri()}" }}\n')
    _lock(root, fixture_index, tmp_path)
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"), "GHOSTENV_FIND_LINKS": str(links),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    python = str(root / ".venv" / "bin" / "python")
    out = subprocess.run([python, "-c", "import glib; print(glib.V)"], capture_output=True,
                         text=True, check=True).stdout
    assert out == "from git\n"
    freeze = subprocess.run([str(UV), "pip", "freeze", "--python", python], capture_output=True,
                            text=True, check=True).stdout
    assert re.search(rf"^glib @ git\+{re.escape(repo.as_uri())}@[0-9a-f]{{40}}$", freeze, re.M)
    shutil.rmtree(repo)  # the checkout in the store is reused: no clone the second time
    shutil.rmtree(root / ".venv")
    again = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert again.returncode == 0, again.stderr


def test_sync_without_a_lock_locks_first(tmp_path: Path, fixture_index: Any) -> None:
    root = tmp_path / "fresh"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cache"),
           "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Locked uv.lock (uv.lock missing)" in proc.stderr, proc.stderr
    assert _installed(root / ".venv") == _locked_versions(root)
    check = subprocess.run(
        [str(UV), "lock", "--check", "--no-config", "--index-url", fixture_index.simple_url,
         "--python", sys.executable, "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert check.returncode == 0, check.stderr  # uv agrees the lock ghostenv wrote is current


def test_no_install_project_skips_the_build(project: Path, tmp_path: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + '\n[build-system]\nrequires = ["no-such-backend"]'
                         '\nbuild-backend = "no_such_backend"\n')
    proc = _sync(project, tmp_path / "cache", "--no-install-project")
    assert proc.returncode == 0, proc.stderr  # the backend would not even resolve
    assert "demo" not in _installed(project / ".venv")
    assert _installed(project / ".venv") == _locked_versions(project)
    status = run_ghostenv("status", "--frozen", "--no-install-project", cwd=project,
                          env={"GHOSTENV_CACHE_DIR": str(tmp_path / "cache")})
    assert status.stdout == "fresh\n"
