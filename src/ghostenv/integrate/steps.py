"""The two things a tool asks of an environment, each skipped when already done.

``install_step``: install pip-style arguments by running ``ghostenv install
--venv ENV ARGS...`` (never pip; the environment does not even have it).
``sync_step``: make the environment hold what the project's uv.lock selects
for some groups and extras (:func:`ghostenv.workflow.sync.sync_environment`).

Both fingerprint their inputs (:mod:`ghostenv.integrate.stamp`); on a re-run
with the same inputs, whose results are still installed, they return after a
file read and a directory listing. Every step logs one event with its cost in
``<env>/.ghostenv/events.jsonl``, which is what the tests and the benchmark read.

``GHOSTENV_INDEX_URL`` (read by ``ghostenv install``) picks the index; it is
part of the install fingerprint, so pointing at another index re-runs installs.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import ProjectError
from ghostenv.integrate.stamp import (
    EnvState,
    fingerprint,
    installed,
    normalize,
    requested_names,
)

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.plan import Wanted

#: Environment variables that change what an install resolves to.
INDEX_VARIABLES = ("GHOSTENV_INDEX_URL", "GHOSTENV_EXTRA_INDEX_URL", "GHOSTENV_FIND_LINKS")


@dataclass(frozen=True, slots=True)
class StepResult:
    """What a step did: skipped or not, its cost, and the distributions it changed."""

    skipped: bool
    ms: float
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def _pyvenv(env: Path) -> str:
    try:
        return (env / "pyvenv.cfg").read_text("utf-8")
    except OSError:
        return ""


def _pyvenv_values(env: Path) -> dict[str, str]:
    return {key.strip(): value.strip() for key, sep, value in
            (line.partition("=") for line in _pyvenv(env).splitlines()) if sep}


def _base_executable(env: Path) -> str | None:
    return _pyvenv_values(env).get("executable")


def _interpreter_identity(env: Path) -> str:
    """What in pyvenv.cfg names the interpreter (not the ``command`` line, which tools rewrite)."""
    values = _pyvenv_values(env)
    return "|".join(values.get(k, "") for k in ("implementation", "version_info", "executable"))


def install_command(env: Path, args: Sequence[str]) -> list[str]:
    """The ``ghostenv install`` command line that installs ``args`` into ``env``."""
    return [sys.executable, "-m", "ghostenv", "install", "--venv", str(env), *args]


def install_step(env: Path, args: Sequence[str], *, key: str, cwd: Path,
                 run: Callable[[list[str]], object]) -> StepResult:
    """Install ``args`` into ``env`` with ``run(command)`` unless the same step already did.

    ``key`` names the step within its caller (``install#0`` for a session's
    first install call), so a changed call replaces its own record.
    """
    started = time.perf_counter()
    state = EnvState(env)
    extra = {var: os.environ.get(var, "") for var in INDEX_VARIABLES}
    extra["python"] = _base_executable(env) or ""
    fp = fingerprint(args, cwd=cwd, extra=extra)
    before = installed(env)
    if state.fresh(key, fp, before):
        ms = (time.perf_counter() - started) * 1000
        state.log("install", key=key, skipped=True, ms=round(ms, 3), args=list(args))
        return StepResult(skipped=True, ms=ms)
    run(install_command(env, args))
    after = installed(env)
    state.record(key, fp, before, after, also=requested_names(args, cwd=cwd), args=list(args))
    ms = (time.perf_counter() - started) * 1000
    changed = tuple(sorted(f"{n}=={v}" for n, v in after.items() if before.get(n) != v))
    state.log("install", key=key, skipped=False, ms=round(ms, 3), args=list(args),
              changed=list(changed))
    return StepResult(skipped=False, ms=ms, changed=changed)


def _lock_bytes(lock_path: Path) -> bytes:
    try:
        return lock_path.read_bytes()
    except FileNotFoundError:
        raise ProjectError(f"{lock_path}: no uv.lock to sync from",
                           hint="run `ghostenv lock` (or `uv lock`) in the project first") from None


def _sync_digest(env: Path, project_dir: Path, lock_bytes: bytes, *, groups: Sequence[str],
                 extras: Sequence[str], all_groups: bool, all_extras: bool,
                 install_project: bool) -> str:
    digest = hashlib.sha256(lock_bytes)
    selection = f"groups={sorted(groups)}|extras={sorted(extras)}|all={all_groups},{all_extras}"
    digest.update(selection.encode())
    digest.update(_interpreter_identity(env).encode())
    if install_project:  # the editable wheel's metadata comes from pyproject.toml
        digest.update(b"project:" + (project_dir / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def sync_fingerprint(env: Path, project_dir: Path, *, groups: Sequence[str] = ("dev",),
                     extras: Sequence[str] = (), all_groups: bool = False,
                     all_extras: bool = False, install_project: bool = False) -> str:
    """The fingerprint :func:`sync_step` stamps a sync with (lock bytes, selection, the
    environment's interpreter, and pyproject.toml when the project is installed).

    Public so another way of making the same environment (the nox backend's
    fresh-environment sync) records a stamp that a later :func:`sync_step`
    recognizes as its own.
    """
    project_dir = Path(project_dir).resolve()
    return _sync_digest(env, project_dir, _lock_bytes(project_dir / "uv.lock"), groups=groups,
                        extras=extras, all_groups=all_groups, all_extras=all_extras,
                        install_project=install_project)


def sync_step(env: Path, project_dir: Path, *, groups: Sequence[str] = ("dev",),
              extras: Sequence[str] = (), all_groups: bool = False, all_extras: bool = False,
              install_project: bool = False, cache_dir: Path | None = None,
              progress: Callable[[str], None] = lambda _text: None) -> StepResult:
    """Make ``env`` hold what ``project_dir/uv.lock`` selects for these groups and extras.

    Distributions that earlier install steps put in the environment are kept
    (the exact sync would otherwise remove a test runner the session installed).
    ``install_project`` also installs the project itself, editable (as ``uv
    sync`` does), when it has a build system. Locked packages that have only an
    sdist are built (:mod:`ghostenv.build`, cached in the store).
    """
    started = time.perf_counter()
    project_dir = Path(project_dir).resolve()
    lock_path = project_dir / "uv.lock"
    lock_bytes = _lock_bytes(lock_path)
    fp = _sync_digest(env, project_dir, lock_bytes, groups=groups, extras=extras,
                      all_groups=all_groups, all_extras=all_extras,
                      install_project=install_project)
    state = EnvState(env)
    before = installed(env)
    if state.fresh("sync", fp, before):
        ms = (time.perf_counter() - started) * 1000
        state.log("sync", skipped=True, ms=round(ms, 3))
        return StepResult(skipped=True, ms=ms)

    from ghostenv.discover import find_interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.read import loads
    from ghostenv.paths import user_cache_dir
    from ghostenv.project.read import read_project
    from ghostenv.store import Store
    from ghostenv.workflow.sync import env_lock, index_settings, sync_locked

    cache = cache_dir or user_cache_dir()
    offline = os.environ.get("GHOSTENV_OFFLINE", "") not in ("", "0")
    project = read_project(project_dir)
    lock = loads(lock_bytes.decode("utf-8"), filename=str(lock_path))
    interpreter = find_interpreter(_base_executable(env) or sys.executable, cache)
    options = ExportOptions(extras=tuple(extras), all_extras=all_extras, groups=tuple(groups),
                            all_groups=all_groups)
    owned = {normalize(name) for name in state.owned("install")}
    keep = (project.name, *sorted(owned))
    store = Store(cache / "store")
    settings = index_settings(project, cache_dir=cache, offline=offline)
    with env_lock(store, env):
        extra = ([_editable_project(project_dir, project.name, interpreter=interpreter,
                                    store=store, settings=settings, progress=progress)]
                 if install_project and not project.virtual else [])
        report = sync_locked(lock, project_dir, env, interpreter, store, options=options,
                             keep=keep, prompt=None, progress=progress, extra=extra,
                             settings=settings, offline=offline)
    after = installed(env)
    state = EnvState(env)  # re-read: the sync may have recreated the environment
    state.record("sync", fp, {}, {n: v for n, v in after.items() if n not in owned},
                 merge=False)
    ms = (time.perf_counter() - started) * 1000
    state.log("sync", skipped=False, ms=round(ms, 3), installed=report.installed,
              removed=report.removed, downloaded=report.downloaded)
    return StepResult(skipped=False, ms=ms, changed=tuple(report.installed),
                      removed=tuple(report.removed))


def _editable_project(root: Path, name: str, *, interpreter: Interpreter, store: Store,
                      settings: IndexSettings, progress: Callable[[str], None]) -> Wanted:
    """The project's PEP 660 editable wheel, built (and cached) by :mod:`ghostenv.build`."""
    from ghostenv.build import build_wheel
    from ghostenv.workflow.plan import Wanted

    wheel = build_wheel(root, interpreter=interpreter, settings=settings, store=store,
                        editable=True, log=progress)
    return Wanted(name, wheel.name.split("-")[1], wheel.name, path=wheel, requested=True,
                  direct_url={"url": root.as_uri(), "dir_info": {"editable": True}})
