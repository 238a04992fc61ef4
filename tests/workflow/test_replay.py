"""A fresh environment replayed from its recipe is the environment the engine makes.

One locked project (the fixture index, uv's lock) with an editable project
(hatchling), a console script and a ``.data/scripts`` file. The engine makes
``.venv`` once (recording the recipe); every later sync into a deleted ``.venv``
replays it, unless something the engine depends on changed -- then the engine
runs (and records a new recipe). Replays are told apart by their
``GHOSTENV_TIMINGS=1`` line (``timings: replay: ...``). Environments are compared
file by file: paths, modes, bytes, symlink targets, and for hardlinks the inode
(the same store object).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ghostenv.workflow import gate, replay
from tests.workflow.test_frozen_sync import _imported
from tests.workflow.test_sync import _lock

PYPROJECT = """\
[project]
name = "demo-replay"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["alpha", "epsilon-tool"]

[dependency-groups]
dev = ["gamma"]
lint = ["beta"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


class Project:
    """The locked project, its cache, and the reference environment the engine made."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.venv = root / ".venv"
        self.cache = Path(env["GHOSTENV_CACHE_DIR"])
        self.reference: dict[str, tuple[Any, ...]] = {}
        self.registry = b""

    def sync(self, *args: str, python: str = sys.executable, importtime: bool = False,
             **extra: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **extra}
        flags = ["-X", "importtime"] if importtime else []
        return subprocess.run(
            [sys.executable, *flags, "-m", "ghostenv", "sync", "--frozen", "--python", python,
             *args], cwd=self.root, env=env, capture_output=True, text=True, timeout=300,
            check=False)

    def popen(self) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ghostenv", "sync", "--frozen", "--python", sys.executable],
            cwd=self.root, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)

    def fresh(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """Delete the environment, sync again; the run must succeed."""
        shutil.rmtree(self.venv, ignore_errors=True)
        proc = self.sync(*args, **extra)
        assert proc.returncode == 0, proc.stderr
        return proc

    def temp(self) -> Path:
        return Path(replay.temp_path(str(self.venv)))

    def record(self) -> Path:
        """The store's reference record of the environment (what ``cache prune`` reads)."""
        return self.cache / "store" / "envs-v1" / f"{replay.path_key(str(self.venv))}.json"

    def recipe(self) -> Path:
        selection = gate.Selection(python=sys.executable, checked=False)
        return Path(replay.recipe_path(str(self.cache), str(self.venv), selection))


def _links(doc: dict[str, Any], column: int) -> list[tuple[str, str]]:
    """A recipe's plain (3) or executable (4) links, targets relative to the environment."""
    return [(src, f"{doc['bases'][task[1]]}/{dst}".lstrip("/"))
            for task in doc["tasks"] for src, dst in replay.link_pairs(task[column])]


def replayed(proc: subprocess.CompletedProcess[str]) -> bool:
    return "timings: replay:" in proc.stderr


def snapshot(env: Path) -> dict[str, tuple[Any, ...]]:
    """Every path under ``env`` (bar the gate record) -> what it is, exactly."""
    out: dict[str, tuple[Any, ...]] = {}
    for folder, dirs, files in os.walk(env):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, env)
            if rel.startswith(".ghostenv-gate"):  # (and a killed writer's temp file)
                continue
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("symlink", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode)
            elif st.st_nlink > 1:
                out[rel] = ("hardlink", mode, st.st_ino)
            else:
                out[rel] = ("file", mode, Path(path).read_bytes())
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, fixture_index: Any) -> Project:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    base = tmp_path_factory.mktemp("replay")
    root = base / "demo-replay"
    (root / "demo_replay").mkdir(parents=True)
    (root / "demo_replay" / "__init__.py").write_text("VALUE = 7\n")
    (root / "pyproject.toml").write_text(PYPROJECT)
    _lock(root, fixture_index, base)
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(base / "cache"),
           "GHOSTENV_FIND_LINKS": str(links), "GHOSTENV_INDEX_URL": fixture_index.simple_url,
           "GHOSTENV_TIMINGS": "1"}
    for name in ("FORCE_COLOR", "GHOSTENV_REPLAY", "GHOSTENV_PROJECT_ENVIRONMENT",
                 "UV_PROJECT_ENVIRONMENT", "GHOSTENV_LINK_MODE"):
        env.pop(name, None)
    proj = Project(root, env)
    first = proj.sync()  # the full path: builds the editable wheel, fills the store
    assert first.returncode == 0, first.stderr
    engine = proj.fresh()  # the frozen engine path: a new environment, its recipe recorded
    assert not replayed(engine), engine.stderr
    assert proj.recipe().is_file(), engine.stderr
    proj.reference = snapshot(proj.venv)
    proj.registry = proj.record().read_bytes()
    return proj


def test_replay_makes_the_engines_environment(project: Project) -> None:
    shutil.rmtree(project.venv)
    proc = project.sync(importtime=True)
    assert proc.returncode == 0, proc.stderr
    assert replayed(proc), proc.stderr
    imported = _imported(proc.stderr)
    assert "ghostenv.workflow.replay" in imported
    engine = [m for m in imported if m.startswith((
        "ghostenv.workflow.plan", "ghostenv.materialize", "ghostenv.lock", "ghostenv.store.cas",
        "ghostenv.workflow.recipe", "ghostenv.workflow.frozen_select")) or m in (
            "ghostenv.workflow.frozen",
            "hashlib", "json", "re", "pathlib", "threading")]
    assert not engine, engine
    assert "Installed 5 packages in" in proc.stderr, proc.stderr
    assert "built demo-replay (editable)" in proc.stderr
    got = snapshot(project.venv)
    assert got == project.reference
    hard = [rel for rel, what in got.items() if what[0] == "hardlink"]
    assert len(hard) >= 5
    scripts = {rel for rel in got if rel.startswith("bin/")}
    assert {"bin/epsilon-tool", "bin/epsilon-data-script", "bin/python"} <= scripts
    assert not project.temp().exists()
    assert project.record().read_bytes() == project.registry  # what the engine registers

    again = project.sync()  # the gate: nothing to do
    assert again.returncode == 0, again.stderr
    assert "Audited 5 packages" in again.stderr, again.stderr
    python = project.venv / "bin" / "python"
    run = subprocess.run([str(python), "-c", "import alpha, demo_replay, epsilon_tool; "
                          "print(demo_replay.VALUE)"], capture_output=True, text=True,
                         check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "7"
    tool = subprocess.run([str(project.venv / "bin" / "epsilon-data-script")],
                          capture_output=True, text=True, check=False)
    assert tool.stdout.strip() == "epsilon data script", tool.stderr


def test_cache_prune_sees_a_replayed_environment(project: Project) -> None:
    project.fresh()
    proc = subprocess.run([sys.executable, "-m", "ghostenv", "cache", "prune"],
                          env=project.env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = replay.load(str(project.recipe()))
    assert doc is not None
    store = Path(doc["store"])
    for tree, column in ((doc["plain_tree"], 3), (doc["exec_tree"], 4)):
        for src, rel in _links(doc, column):  # the wheels' objects were all kept
            if not rel.endswith(("/INSTALLER", "/REQUESTED")):  # (the installer's: remade)
                assert (store / tree / src).is_file(), rel
    project.fresh()
    again = project.fresh()
    assert replayed(again), again.stderr
    assert snapshot(project.venv).keys() == project.reference.keys()
    project.reference = snapshot(project.venv)


def test_a_checked_sync_replays_a_checked_recipe(project: Project) -> None:
    """Without --frozen (the lock vouched current by ghostenv lock's record): its own recipe."""
    lock = subprocess.run([sys.executable, "-m", "ghostenv", "lock"], cwd=project.root,
                          env=project.env, capture_output=True, text=True, check=False)
    assert lock.returncode == 0, lock.stderr

    def sync() -> subprocess.CompletedProcess[str]:
        shutil.rmtree(project.venv, ignore_errors=True)
        return subprocess.run([sys.executable, "-m", "ghostenv", "sync", "--python",
                               sys.executable], cwd=project.root, env=project.env,
                              capture_output=True, text=True, check=False)

    first = sync()  # the frozen recipe does not vouch for a checked sync: the engine
    assert first.returncode == 0, first.stderr
    assert not replayed(first), first.stderr
    second = sync()
    assert second.returncode == 0, second.stderr
    assert replayed(second), second.stderr
    assert snapshot(project.venv) == project.reference
    assert replayed(project.fresh())  # the --frozen one is still there: a recipe each


def test_same_content_replays_changed_content_does_not(project: Project) -> None:
    lock = project.root / "uv.lock"
    text = lock.read_bytes()
    future = time.time() + 5
    os.utime(lock, (future, future))  # touched: the stat moved, the content did not
    proc = project.fresh()
    assert replayed(proc), proc.stderr
    try:
        lock.write_bytes(text + b"\n")  # another lock (as far as bytes go)
        proc = project.fresh()
        assert not replayed(proc), proc.stderr
        assert snapshot(project.venv) == project.reference  # the same objects, the same files
    finally:
        lock.write_bytes(text)
    proc = project.fresh()  # the engine again (the recipe is of the other bytes) ...
    assert not replayed(proc), proc.stderr
    proc = project.fresh()  # ... which recorded this one
    assert replayed(proc), proc.stderr


@pytest.mark.parametrize("case", ["no-dev", "group", "python", "replay-off", "exists",
                                  "link-mode"])
def test_other_requests_go_to_the_engine(project: Project, case: str) -> None:
    if case == "exists":  # a stale environment is refreshed in place by the engine
        project.fresh()
        (project.venv / ".ghostenv-gate").unlink()
        proc = project.sync()
    elif case == "python":
        other = os.path.realpath(sys.executable)
        if other == sys.executable:
            pytest.skip("the test interpreter is not a symlink")
        proc = project.fresh(python=other)
    elif case == "link-mode":  # copies: nothing a recipe of hardlinks stands for
        before = project.recipe().read_bytes()
        proc = project.fresh(GHOSTENV_LINK_MODE="copy")
        assert "environment variables changed" in proc.stderr, proc.stderr
        assert not project.recipe().exists()  # (and none recorded for copies)
        assert "no recipe:" in proc.stderr, proc.stderr
        project.recipe().write_bytes(before)
    else:
        args = {"no-dev": ("--no-dev",), "group": ("--group", "lint"), "replay-off": ()}[case]
        extra = {"GHOSTENV_REPLAY": "0"} if case == "replay-off" else {}
        before = project.recipe().read_bytes()
        proc = project.fresh(*args, **extra)
        if case == "replay-off":
            assert project.recipe().read_bytes() == before  # nor recorded
    assert proc.returncode == 0, proc.stderr
    assert not replayed(proc), proc.stderr
    assert "timings:" in proc.stderr  # the frozen engine path ran
    project.fresh()  # back to the usual environment (and its recipe)


def test_an_inexact_sync_replays_and_registers_as_the_engine(project: Project) -> None:
    proc = project.fresh("--inexact")  # the same selection; the record is merged, not replaced
    assert replayed(proc), proc.stderr
    assert project.record().read_bytes() == project.registry
    again = project.sync()  # nothing extraneous: the gate recorded an exact environment
    assert "Audited 5 packages" in again.stderr, again.stderr


def test_editable_changes_go_to_the_engine(project: Project) -> None:
    doc = replay.load(str(project.recipe()))
    assert doc is not None
    assert doc["editable"] is not None
    _key, folder, _names, wheel, _st = doc["editable"]
    os.utime(Path(folder) / wheel)  # the cached editable wheel rebuilt (say)
    proc = project.fresh()
    assert not replayed(proc)
    assert "the editable wheels changed" in proc.stderr, proc.stderr
    assert replayed(project.fresh())
    (project.root / "extra_pkg").mkdir()  # a new top-level name: another editable build
    try:
        proc = project.fresh()
        assert not replayed(proc)
        assert "build key changed" in proc.stderr, proc.stderr
    finally:
        (project.root / "extra_pkg").rmdir()
    project.fresh()
    assert replayed(project.fresh())


def test_missing_store_object_falls_back_and_completes(project: Project) -> None:
    project.fresh()
    doc = replay.load(str(project.recipe()))
    assert doc is not None
    plain = _links(doc, 3)
    src, rel = plain[len(plain) // 2]
    obj = Path(doc["store"]) / doc["plain_tree"] / src
    shutil.rmtree(project.venv)  # (the environment held a link to it too)
    obj.unlink()
    proc = project.fresh()
    assert not replayed(proc), proc.stderr
    assert obj.is_file()  # fetched and unpacked again by the engine
    assert not project.temp().exists()
    got = snapshot(project.venv)
    assert got.keys() == project.reference.keys()
    assert got[rel][0] == "hardlink"
    new = replay.load(str(project.recipe()))  # the engine recorded a new recipe
    assert new is not None
    assert new["tasks"] == doc["tasks"]
    proc = project.fresh()
    assert replayed(proc), proc.stderr
    project.reference = snapshot(project.venv)  # that object's inode is a new one


def test_corrupt_recipe_is_a_miss(project: Project) -> None:
    project.fresh()
    path = project.recipe()
    blob = bytearray(path.read_bytes())
    blob[-10] ^= 0xFF
    path.write_bytes(bytes(blob))
    assert replay.load(str(path)) is None
    proc = project.fresh()
    assert not replayed(proc), proc.stderr
    assert snapshot(project.venv) == project.reference
    path.write_bytes(path.read_bytes()[:100])  # torn
    assert replay.load(str(path)) is None
    proc = project.fresh()
    assert not replayed(proc), proc.stderr
    assert replayed(project.fresh())


def test_sigkill_during_replay_then_rerun_completes(project: Project) -> None:
    shutil.rmtree(project.venv)
    start = time.perf_counter()
    child = project.popen()  # how long a replay takes here, start-up included
    child.communicate()
    took = time.perf_counter() - start
    assert child.returncode == 0
    rng = random.Random(5)
    states = set()
    for _ in range(int(os.environ.get("REPLAY_KILLS", "8"))):
        shutil.rmtree(project.venv, ignore_errors=True)
        child = project.popen()
        time.sleep(rng.uniform(0.3, 1.0) * took)
        child.send_signal(signal.SIGKILL)
        child.communicate()
        states.add((project.venv.exists(), project.temp().exists()))
        assert not project.venv.exists() or (project.venv / "pyvenv.cfg").is_file()
        proc = project.sync()
        assert proc.returncode == 0, proc.stderr
        got = snapshot(project.venv)
        assert got == project.reference, (proc.stderr, _diff(got, project.reference))
        assert not project.temp().exists(), proc.stderr
    print("after the kills (environment, temporary tree):", sorted(states))
    verify = subprocess.run([sys.executable, "-m", "ghostenv", "cache", "verify"],
                            env=project.env, capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _diff(got: dict[str, tuple[Any, ...]], want: dict[str, tuple[Any, ...]]) -> list[str]:
    return sorted(f"{rel}: {got.get(rel, '-')!r:.80} != {want.get(rel, '-')!r:.80}"
                  for rel in got.keys() | want.keys() if got.get(rel) != want.get(rel))[:10]


def test_a_leftover_tree_is_removed_by_the_engine_too(project: Project) -> None:
    shutil.rmtree(project.venv, ignore_errors=True)
    (project.temp() / "lib").mkdir(parents=True)  # as a replay killed before its rename
    proc = project.fresh(GHOSTENV_REPLAY="0")
    assert "timings: entry" in proc.stderr, proc.stderr  # the frozen engine path (the
    assert not project.temp().exists()  # editable key ignores the leftover's name)
    assert snapshot(project.venv) == project.reference


def test_interrupt_during_replay_leaves_nothing_half_made(project: Project) -> None:
    shutil.rmtree(project.venv, ignore_errors=True)
    start = time.perf_counter()
    child = project.popen()
    child.communicate()
    took = time.perf_counter() - start
    rng = random.Random(7)
    for _ in range(4):
        shutil.rmtree(project.venv, ignore_errors=True)
        child = project.popen()
        time.sleep(rng.uniform(0.4, 1.0) * took)
        child.send_signal(signal.SIGINT)
        child.communicate()  # (interrupted in Python's own start-up: any exit code)
        assert not project.temp().exists()
        if project.venv.exists():  # finished (or renamed into place just before)
            assert snapshot(project.venv).keys() == project.reference.keys()
        proc = project.sync()
        assert proc.returncode == 0, proc.stderr
        assert snapshot(project.venv) == project.reference


def test_run_replays_then_runs(project: Project) -> None:
    shutil.rmtree(project.venv)
    proc = subprocess.run([sys.executable, "-m", "ghostenv", "run", "--frozen", "--python",
                           sys.executable, "python", "-c", "import demo_replay, alpha; "
                           "print(demo_replay.VALUE)"], cwd=project.root, env=project.env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert replayed(proc), proc.stderr
    assert "Installed 5 packages" in proc.stderr  # as the engine says it for run
    assert proc.stdout.strip() == "7"
    assert snapshot(project.venv).keys() - {
        rel for rel in project.reference if "__pycache__" in rel} >= {
        rel for rel in project.reference if "__pycache__" not in rel}


def test_two_syncs_at_once(project: Project) -> None:
    for _ in range(2):
        shutil.rmtree(project.venv, ignore_errors=True)
        children = [project.popen() for _ in range(2)]
        for child in children:
            _out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
        assert snapshot(project.venv) == project.reference


def test_interpreter_chosen_through_the_memo(project: Project) -> None:
    """No --python: requires-python picks an interpreter, remembered for an hour (the memo);
    the recipe holds while the memo names the same one, and PATH (its key) is unchanged."""
    env_path = project.root / ".venv-memo"
    extra = {"GHOSTENV_PROJECT_ENVIRONMENT": str(env_path)}

    def sync(**more: str) -> subprocess.CompletedProcess[str]:
        shutil.rmtree(env_path, ignore_errors=True)
        proc = subprocess.run([sys.executable, "-m", "ghostenv", "sync", "--frozen"],
                              cwd=project.root, env={**project.env, **extra, **more},
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc

    sync()  # the full path searches, and remembers its choice
    first = sync()  # the frozen engine path: the memo's interpreter; the recipe recorded
    assert not replayed(first), first.stderr
    doc = replay.load(replay.recipe_path(str(project.cache), str(env_path),
                                         gate.Selection(checked=False)))
    assert doc is not None
    assert doc["memo"] is not None, first.stderr
    memo = Path(doc["memo"][0])
    assert replayed(sync())
    other = sync(PATH=os.environ["PATH"] + os.pathsep + "/nonexistent")
    assert not replayed(other)
    assert "environment variables changed" in other.stderr
    sync()  # the recipe for the usual PATH again
    assert replayed(sync())
    named = memo.read_text()
    try:
        memo.write_text("/elsewhere/python3\n")  # another choice: not this recipe's
        proc = sync()
        assert not replayed(proc)
        assert "another interpreter choice" in proc.stderr, proc.stderr
    finally:
        memo.write_text(named)
    sync()
    assert replayed(sync())
    old = time.time() - 7200
    os.utime(memo, (old, old))  # expired: the full path searches again
    proc = sync()
    assert not replayed(proc)
    assert "the interpreter choice expired" in proc.stderr, proc.stderr
    shutil.rmtree(env_path, ignore_errors=True)


def test_a_recipe_is_recorded_for_a_remade_environment_only(project: Project) -> None:
    """A first environment at a path costs no capture; made again there, it is recorded;
    the third time it is replayed."""
    path = project.root / ".venv-third"
    other = {"GHOSTENV_PROJECT_ENVIRONMENT": str(path)}
    selection = gate.Selection(python=sys.executable, checked=False)
    recipe = Path(replay.recipe_path(str(project.cache), str(path), selection))
    try:
        first = project.sync(**other)
        assert first.returncode == 0, first.stderr
        assert not replayed(first)
        assert not recipe.exists()
        shutil.rmtree(path)
        second = project.sync(**other)
        assert second.returncode == 0, second.stderr
        assert not replayed(second)
        assert recipe.is_file(), second.stderr
        shutil.rmtree(path)
        third = project.sync(**other)
        assert third.returncode == 0, third.stderr
        assert replayed(third), third.stderr
    finally:
        shutil.rmtree(path, ignore_errors=True)


def test_old_recipes_are_trimmed(project: Project) -> None:
    from ghostenv.workflow import recipe

    folder = project.recipe().parent
    for i in range(recipe.KEEP + recipe.KEEP // 4 + 5):
        old = folder / f"old-{i}"
        old.write_bytes(b"x")
        os.utime(old, (1000 + i, 1000 + i))
    os.utime(project.recipe(), (900, 900))
    assert replayed(project.fresh())  # used: touched, so kept
    other = {"GHOSTENV_PROJECT_ENVIRONMENT": str(project.root / ".venv-other")}
    proc = project.fresh(**other)  # a first environment at a path: no recipe recorded
    assert not replayed(proc), proc.stderr
    assert len(list(folder.iterdir())) > recipe.KEEP  # (so nothing trimmed either)
    shutil.rmtree(project.root / ".venv-other")
    proc = project.fresh(**other)  # made again there: recorded, and the folder trimmed
    assert not replayed(proc), proc.stderr
    shutil.rmtree(project.root / ".venv-other")
    left = sorted(p.name for p in folder.iterdir())
    assert len(left) == recipe.KEEP, proc.stderr
    assert project.recipe().name in left
    assert "old-0" not in left
    assert f"old-{recipe.KEEP + recipe.KEEP // 4 + 4}" in left


def test_constants_and_umask() -> None:
    from ghostenv.workflow import frozen_python

    assert replay.CHOICE_TTL == frozen_python.CHOICE_TTL
    import threading

    old = os.umask(0o027)
    try:
        assert replay.umask() == 0o027
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()  # another thread: read from /proc, the umask never touched
        try:
            assert replay.umask() == 0o027
        finally:
            stop.set()
            other.join()
    finally:
        os.umask(old)
    assert replay.umask() == old


def test_lock_file_is_the_stores(tmp_path: Path) -> None:
    from ghostenv.store import Store
    from ghostenv.store.refs import path_key

    for env in (tmp_path / "env", tmp_path / ("x" * 190) / "env", tmp_path / "a%b\\c"):
        lock = Store(tmp_path / "cache" / "store").lock_environment(env)
        assert replay.lock_path(str(tmp_path / "cache"), str(env)) == lock.path
        assert replay.path_key(str(env)) == path_key(env)
