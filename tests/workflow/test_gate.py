"""The up-to-date gate through the real CLI: every stale reason, the fast path's imports,
``run`` replacing the process, Ctrl-C during a sync.

One uv lock (written by uv against the fixture index) and one warm store are
shared by the module; each test syncs its own copy of the project (linking from
the store, a few hundred ms) and then changes one thing for real.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ghostenv.workflow import gate
from tests.conftest import run_ghostenv
from tests.workflow.test_sync import PYPROJECT, UV, _installed, _lock


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, fixture_index: Any) -> Path:
    base = tmp_path_factory.mktemp("gate")
    root = base / "demo"
    root.mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT + '\n[dependency-groups]\ntest = ["zeta-big"]\n')
    _lock(root, fixture_index, base)
    return root


@pytest.fixture(scope="module")
def store_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gate-cache")


@pytest.fixture
def env(store_cache: Path) -> dict[str, str]:
    return {"GHOSTENV_CACHE_DIR": str(store_cache)}


@pytest.fixture
def synced(template: Path, tmp_path: Path, env: dict[str, str]) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns(".venv"))
    proc = run_ghostenv("sync", "--python", sys.executable, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    return root


def _status(root: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    proc = run_ghostenv("status", *args, cwd=root, env=env)
    assert not proc.stderr, proc.stderr
    return proc.returncode, proc.stdout.strip()


def test_store_schema_matches_the_store() -> None:
    from ghostenv.store.cas import OBJECTS

    assert gate.STORE_SCHEMA == OBJECTS


def test_fresh_then_touch_is_fresh_after_one_hash(synced: Path, env: dict[str, str]) -> None:
    assert _status(synced, env) == (0, "fresh")
    check = run_ghostenv("sync", "--check", cwd=synced, env=env)
    assert (check.returncode, check.stdout) == (0, "fresh\n")
    state_file = synced / ".venv" / gate.STATE_NAME
    before = state_file.read_text()
    past = time.time_ns() - 5_000_000_000
    for name in ("pyproject.toml", "uv.lock"):
        path = synced / name
        path.write_bytes(path.read_bytes())  # same bytes, a new mtime
        os.utime(path, ns=(past, past))
    assert _status(synced, env) == (0, "fresh")  # content hashed: same
    assert state_file.read_text() == before  # status never writes
    proc = run_ghostenv("sync", cwd=synced, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("Audited 4 packages"), proc.stderr
    after = gate.load(str(synced / ".venv"))
    assert after is not None
    st = os.stat(synced / "pyproject.toml")
    assert after.inputs["pyproject.toml"][0] == f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def test_torn_record_is_stale(synced: Path, env: dict[str, str]) -> None:
    record = synced / ".venv" / gate.STATE_NAME
    text = record.read_text()
    record.write_text(text[: text.index("\nout ")])  # cut before the outputs: never "fresh"
    assert _status(synced, env) == (
        1, ".venv's sync record is from another ghostenv version, or damaged")


def test_changed_dependency_is_stale(synced: Path, env: dict[str, str]) -> None:
    pyproject = synced / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"epsilon-tool"', '"epsilon-tool>=0.1"'))
    assert _status(synced, env) == (1, "pyproject.toml changed")
    lock = synced / "uv.lock"
    pyproject.write_text(pyproject.read_text().replace('"epsilon-tool>=0.1"', '"epsilon-tool"'))
    assert _status(synced, env) == (0, "fresh")
    lock.write_text(lock.read_text() + "\n")
    assert _status(synced, env) == (1, "uv.lock changed")
    lock.unlink()
    assert _status(synced, env) == (1, "uv.lock removed")


def test_missing_python_and_environment(synced: Path, env: dict[str, str]) -> None:
    (synced / ".venv" / "bin" / "python").unlink()
    assert _status(synced, env) == (1, ".venv/bin/python missing")
    proc = run_ghostenv("sync", cwd=synced, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _status(synced, env) == (0, "fresh")
    shutil.rmtree(synced / ".venv")
    assert _status(synced, env) == (1, ".venv missing")


def test_pip_install_into_the_environment_is_seen(synced: Path, env: dict[str, str],
                                                  fixture_index: Any) -> None:
    python = synced / ".venv" / "bin" / "python"
    proc = subprocess.run([str(UV), "pip", "install", "--python", str(python), "--index-url",
                           fixture_index.simple_url, "--no-config", "zeta-big"],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    code, reason = _status(synced, env)
    site = f".venv/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    assert (code, reason) == (1, f"{site} modified outside ghostenv")
    sync = run_ghostenv("sync", cwd=synced, env=env)
    assert "removed 1" in sync.stderr, sync.stderr
    assert "zeta-big" not in _installed(synced / ".venv")
    assert _status(synced, env) == (0, "fresh")


def test_selection_and_mode_changes(synced: Path, env: dict[str, str]) -> None:
    assert _status(synced, env, "--group", "test") == (
        1, "selected groups, extras or options changed")
    proc = run_ghostenv("sync", "--group", "test", cwd=synced, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Installed 1 package" in proc.stderr, proc.stderr
    assert _status(synced, env, "--group", "test") == (0, "fresh")
    assert _status(synced, env)[0] == 1
    proc = run_ghostenv("sync", "--frozen", cwd=synced, env=env)
    assert "removed 1" in proc.stderr, proc.stderr
    assert _status(synced, env, "--frozen") == (0, "fresh")
    assert _status(synced, env)[1].startswith("the last sync used --frozen")


def test_changed_interpreter_is_stale(template: Path, tmp_path: Path,
                                      env: dict[str, str]) -> None:
    real = Path(os.path.realpath(sys._base_executable))  # type: ignore[attr-defined]
    fake = tmp_path / "py"
    (fake / "bin").mkdir(parents=True)
    shutil.copy2(real, fake / "bin" / real.name)
    (fake / "lib").symlink_to(real.parent.parent / "lib")
    python = fake / "bin" / real.name
    if subprocess.run([str(python), "-c", "import encodings"], check=False).returncode:
        pytest.skip("this interpreter cannot run from a copy")
    root = tmp_path / "demo"
    shutil.copytree(template, root, ignore=shutil.ignore_patterns(".venv"))
    proc = run_ghostenv("sync", "--python", str(python), cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _status(root, env) == (0, "fresh")
    shutil.copy2(real, python.with_name("new"))  # an upgrade in place: a new file
    os.replace(python.with_name("new"), python)
    assert _status(root, env) == (1, f"interpreter {python} changed")
    proc = run_ghostenv("sync", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    assert _status(root, env) == (0, "fresh")


HEAVY = ("httpx", "packaging", "argparse", "pluggy", "dataclasses", "typing")
FORBIDDEN = ("httpx", "packaging", "argparse", "pluggy", "json", "re", "dataclasses", "typing")

PROBE = """
import os, sys
from ghostenv.entry import main
def fake_exec(file, args, env):
    bad = [m for m in {forbidden!r} if m in sys.modules]
    print("EXEC", file, args[1:], env["VIRTUAL_ENV"], env["PATH"].split(os.pathsep)[0], bad)
    sys.stdout.flush()
    os._exit(0)
os.execvpe = fake_exec
rc = main({argv!r})
print("RC", rc, [m for m in {forbidden!r} if m in sys.modules])
"""


def _probe(root: Path, env: dict[str, str], argv: list[str]) -> str:
    code = PROBE.format(forbidden=FORBIDDEN, argv=argv)
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, check=False, env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_fast_path_imports_nothing_heavy(synced: Path, env: dict[str, str]) -> None:
    assert _probe(synced, env, ["sync"]) == "RC 0 []"
    assert _probe(synced, env, ["status"]) == "fresh\nRC 0 []"
    assert _probe(synced, env, ["sync", "--check", "--group", "test"]) == (
        "selected groups, extras or options changed\nRC 1 []")
    venv = str(synced / ".venv")
    assert _probe(synced, env, ["run", "python", "-c", "pass"]) == (
        f"EXEC python ['-c', 'pass'] {venv} {venv}/bin []")
    # an option the fast path does not know goes to argparse
    assert "'argparse'" in _probe(synced, env, ["-v", "sync"])


def test_run_execs_with_exit_status_and_signals(synced: Path, env: dict[str, str]) -> None:
    code = ("import os, sys; print(sys.prefix, os.environ['VIRTUAL_ENV']); import alpha; "
            "sys.exit(7)")
    proc = run_ghostenv("run", "python", "-c", code, cwd=synced, env=env)
    venv = str(synced / ".venv")
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout.split() == [venv, venv]
    kill = run_ghostenv("run", "python", "-c", "import os, signal; os.kill(os.getpid(), "
                        "signal.SIGTERM)", cwd=synced, env=env)
    assert kill.returncode == -signal.SIGTERM  # the command was the process: no wrapper
    (synced / "hello.py").write_text("import epsilon_tool, sys; print('hi', sys.argv[1:])\n")
    script = run_ghostenv("run", "hello.py", "x", cwd=synced, env=env)
    assert script.stdout == "hi ['x']\n", script.stderr
    missing = run_ghostenv("run", "no-such-command-here", cwd=synced, env=env)
    assert missing.returncode == 2
    assert missing.stderr.startswith("error: failed to spawn `no-such-command-here`")


def test_run_syncs_a_stale_environment_first(synced: Path, env: dict[str, str]) -> None:
    shutil.rmtree(synced / ".venv")
    proc = run_ghostenv("run", "python", "-c", "import alpha; print('ok')", cwd=synced, env=env)
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stderr
    assert "Installed 4 packages" in proc.stderr
    assert run_ghostenv("sync", "--check", cwd=synced, env=env).stdout == "fresh\n"


def test_ctrl_c_during_sync_keeps_the_old_environment(synced: Path, fixture_index: Any,
                                                      tmp_path: Path) -> None:
    # A group whose package is not in this (new) store, served slowly: Ctrl-C lands mid-download.
    env = {"GHOSTENV_CACHE_DIR": str(tmp_path / "cold")}
    fixture_index.options.latency = 1.0
    try:
        child = subprocess.Popen([sys.executable, "-m", "ghostenv", "sync", "--group", "test"],
                                 cwd=synced, env={**os.environ, **env}, stderr=subprocess.PIPE,
                                 text=True)
        time.sleep(0.8)
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=60)
    finally:
        fixture_index.options.latency = 0.0
    assert child.returncode == 130, err
    assert "interrupted" in err
    old = subprocess.run([str(synced / ".venv" / "bin" / "python"), "-c",
                          "import alpha, epsilon_tool"], capture_output=True, check=False)
    assert old.returncode == 0, old.stderr  # the old environment still works
    assert _status(synced, env, "--group", "test")[0] == 1
    proc = run_ghostenv("sync", "--group", "test", cwd=synced, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "zeta-big" in _installed(synced / ".venv")
    assert _status(synced, env, "--group", "test") == (0, "fresh")


def test_run_with_layers_on_the_project_and_is_reused(synced: Path, env: dict[str, str],
                                                      fixture_index: Any) -> None:
    env = {**env, "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    code = ("import sys, os, alpha, zeta_big; print(os.environ['VIRTUAL_ENV'] != "
            "os.environ['PATH'].split(os.pathsep)[1][:-4])")
    first = run_ghostenv("run", "--with", "zeta-big", "python", "-c", code, cwd=synced, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "True\n"  # the with-layer first, the project env second on PATH
    assert "zeta-big" not in _installed(synced / ".venv")  # the project env is untouched
    assert _status(synced, env) == (0, "fresh")
    probe = _probe(synced, env, ["run", "--with", "zeta-big", "python", "-c", "pass"])
    assert probe.startswith("EXEC python ['-c', 'pass'] "), probe  # second run: fast path
    assert not any(f"'{m}'" in probe.rsplit(" [", 1)[1] for m in HEAVY), probe
    layer = probe.split()[4]
    assert layer != str(synced / ".venv")
    assert probe.split()[5] == f"{layer}/bin"


def test_run_pep723_script(tmp_path: Path, env: dict[str, str], fixture_index: Any) -> None:
    env = {**env, "GHOSTENV_INDEX_URL": fixture_index.simple_url}
    folder = tmp_path / "scripts"  # no pyproject.toml here or above
    folder.mkdir()
    script = folder / "tool.py"
    script.write_text('# /// script\n# requires-python = ">=3.11"\n# dependencies = ["alpha"]\n'
                      "# ///\nimport alpha, sys\nprint('tool', sys.argv[1:])\n")
    first = run_ghostenv("run", "--python", sys.executable, "tool.py", "a", cwd=folder, env=env)
    assert (first.returncode, first.stdout) == (0, "tool ['a']\n"), first.stderr
    probe = _probe(folder, env, ["run", "--python", sys.executable, "tool.py", "b"])
    assert probe.startswith("EXEC "), probe
    assert not any(f"'{m}'" in probe.rsplit(" [", 1)[1] for m in HEAVY), probe


def test_project_environment_variable_and_inexact(synced: Path, env: dict[str, str],
                                                  fixture_index: Any) -> None:
    other = {**env, "UV_PROJECT_ENVIRONMENT": "envs/other"}
    assert _status(synced, other) == (1, "envs/other missing")
    proc = run_ghostenv("sync", cwd=synced, env=other)
    assert proc.returncode == 0, proc.stderr
    assert _installed(synced / "envs" / "other") == _installed(synced / ".venv")
    run = run_ghostenv("run", "python", "-c", "import sys; print(sys.prefix)", cwd=synced,
                       env=other)
    assert run.stdout.strip() == str(synced / "envs" / "other"), run.stderr
    # --inexact keeps what the lock does not list; run (inexact) accepts that env as fresh
    python = str(synced / ".venv" / "bin" / "python")
    subprocess.run([str(UV), "pip", "install", "--python", python, "--index-url",
                    fixture_index.simple_url, "--no-config", "zeta-big"], check=True,
                   capture_output=True, timeout=120)
    proc = run_ghostenv("sync", "--inexact", cwd=synced, env=env)
    assert "removed" not in proc.stderr, proc.stderr
    assert "zeta-big" in _installed(synced / ".venv")
    assert _status(synced, env)[1] == "the last sync was inexact (extraneous packages may remain)"
    assert _probe(synced, env, ["run", "python", "-c", "pass"]).startswith("EXEC python")


def test_python_version_file_picks_the_interpreter(synced: Path, env: dict[str, str]) -> None:
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next((v for v in ("3.12", "3.13", "3.11") if v != mine
                  and subprocess.run(["pyenv", "prefix", v], capture_output=True,
                                     check=False).returncode == 0), None)
    if other is None:
        pytest.skip("no other Python minor version under pyenv")
    (synced / ".python-version").write_text(f"{other}\n")
    assert _status(synced, env) == (1, ".python-version added")
    proc = run_ghostenv("sync", cwd=synced, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "recreated" in proc.stderr, proc.stderr
    version = subprocess.run([str(synced / ".venv" / "bin" / "python"), "-c",
                              "import sys, alpha; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == other
    assert _status(synced, env) == (0, "fresh")


def test_uv_python_variable_acts_as_python_option(synced: Path, env: dict[str, str]) -> None:
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    other = next((v for v in ("3.12", "3.13", "3.11") if v != mine
                  and subprocess.run(["pyenv", "prefix", v], capture_output=True,
                                     check=False).returncode == 0), None)
    if other is None:
        pytest.skip("no other Python minor version under pyenv")
    with_var = {**env, "UV_PYTHON": other}
    assert _status(synced, with_var) == (
        1, f"--python {other} differs from the last sync's interpreter")
    run = run_ghostenv("run", "python", "-c", "import sys; print('%d.%d' % sys.version_info[:2])",
                       cwd=synced, env=with_var)
    assert run.stdout.strip() == other, run.stderr
    assert _status(synced, with_var) == (0, "fresh")


def test_record_takes_known_input_signatures(tmp_path: Path) -> None:
    """``record(inputs=...)`` stores what the caller checked; a file changed after that check
    is still caught by the next ``check`` (its stat moved, its hash differs)."""
    project = tmp_path / "proj"
    env_dir = project / ".venv"
    site = env_dir / "lib" / "site-packages"
    site.mkdir(parents=True)
    (env_dir / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "pyproject.toml").write_text("[project]\nname = 'p'\nversion = '1'\n")
    lock = project / "uv.lock"
    lock.write_text("version = 1\n")
    old = time.time_ns() - 5 * gate.RACY_NS  # outside the racy window
    os.utime(lock, ns=(old, old))
    os.utime(project / "pyproject.toml", ns=(old, old))
    known = {name: (gate._stat(str(project / name)), gate._sha256(str(project / name)))
             for name in gate.INPUTS}
    known["uv.lock"] = (known["uv.lock"][0], "0" * 64)  # taken as given, not re-hashed
    selection = gate.Selection(checked=False)
    python = Path(sys.executable)
    gate.record(str(project), str(env_dir), selection, interpreter=str(python),
                site_packages=[str(site)], count=0, inputs=known)
    state = gate.load(str(env_dir))
    assert state is not None
    assert state.inputs["uv.lock"] == known["uv.lock"]
    assert gate.check(str(project), str(env_dir), selection) is None
    lock.write_text("version = 1\n# changed after the caller's check\n")
    assert gate.check(str(project), str(env_dir), selection) == "uv.lock changed"
