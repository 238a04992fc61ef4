"""``sync``: make an environment hold exactly what uv.lock selects for it.

Two levels. :func:`sync_environment` / :func:`sync_locked` take a lock as is:
packages are selected by evaluating the markers along every dependency path
from the project (:func:`ghostenv.lock.export.select_packages`) against the
target interpreter, each gets its artifact (:mod:`ghostenv.workflow.sources`:
the best wheel, or something to build), and H4's install engine
(:mod:`ghostenv.workflow.plan`) links them from the store -- a warm store
turns a sync into linking files -- and removes what the lock does not select
(exact sync). :func:`sync_project` is what ``ghostenv sync`` runs when the gate
(:mod:`ghostenv.workflow.gate`) says the environment is stale: check or make
the lock, pick the interpreter, install the project itself editable, record
the gate.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import LockError
from ghostenv.workflow.frozen_python import CHOICE_TTL
from ghostenv.workflow.sources import normalize

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.model import Lock
    from ghostenv.project.model import Project
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.gate import Selection
    from ghostenv.workflow.plan import Wanted

@dataclass(slots=True)
class SyncReport:
    """What a sync did, for the summary line and for tests."""

    installed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    downloaded: int = 0
    unchanged: int = 0
    install_ms: float = 0.0
    """Time spent changing the environment (removing and linking), downloads excluded."""
    download_ms: float = 0.0
    recreated: str | None = None
    warnings: list[str] = field(default_factory=list)
    total: int = 0
    """Packages the environment holds for the lock (installed now or before)."""
    extraneous: int = 0
    """Packages an inexact sync left in place although the lock does not select them."""
    built: list[str] = field(default_factory=list)
    locked: str | None = None
    """What locking did, when sync had to lock first."""
    python: Path | None = None
    site_packages: tuple[Path, ...] = ()
    timings: list[tuple[str, float]] = field(default_factory=list)
    """(phase, ms) of a project sync, for ``-vv``."""


def _foreign_interpreter(cfg: Path, interpreter: Interpreter) -> str | None:
    """Why the venv at ``cfg`` cannot be reused for ``interpreter`` (None if it can).

    Its site-packages holds files compiled or tagged for one minor version and
    implementation; refreshing such an environment in place would keep them.
    """
    try:
        text = cfg.read_text("utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return f"cannot read {cfg}: {exc.strerror}"
    from ghostenv.workflow.frozen import foreign_config

    return foreign_config(text, interpreter)


def sync_environment(
    lock: Lock,
    lock_dir: Path,
    env_path: Path,
    interpreter: Interpreter,
    store: Store,
    *,
    options: ExportOptions,
    keep: tuple[str, ...] = (),
    prompt: str | None = None,
    progress: Callable[[str], None] = lambda _text: None,
    exact: bool = True,
) -> SyncReport:
    """Create or refresh the venv at ``env_path`` and make it match ``lock`` exactly.

    ``keep`` names distributions never removed (the project itself, which
    another tool may have installed editable). Concurrent syncs of one
    environment are serialized by a file lock in the store, so two processes
    both end with the complete environment.
    """
    with env_lock(store, env_path):
        return sync_locked(lock, lock_dir, env_path, interpreter, store, options=options,
                           keep=keep, prompt=prompt, progress=progress, exact=exact)


def env_lock(store: Store, env_path: Path) -> AbstractContextManager[None]:
    """The cross-process lock of one environment (shared with ``ghostenv install`` and
    ephemeral environments: :meth:`Store.lock_environment`, a plain ``flock`` on POSIX)."""
    return store.lock_environment(env_path)


def sync_locked(
    lock: Lock,
    lock_dir: Path,
    env_path: Path,
    interpreter: Interpreter,
    store: Store,
    *,
    options: ExportOptions,
    keep: tuple[str, ...],
    prompt: str | None,
    progress: Callable[[str], None],
    exact: bool = True,
    extra: Sequence[Wanted] = (),
    settings: IndexSettings | Callable[[], IndexSettings] | None = None,
    offline: bool = False,
    project: str | None = None,
) -> SyncReport:
    """:func:`sync_environment` for a caller already holding :func:`env_lock`.

    ``extra``: more wheels to install with the lock's (the project's editable
    wheel). ``settings`` (or a function making them, called only when needed):
    where build requirements come from when a locked package has only an
    sdist (built before the environment is touched). ``project``: the lock's
    package to start from (a workspace member's dependencies on other members
    are then installed too, editable, as uv does); default: every member.
    """
    from ghostenv import plugins
    from ghostenv.lock.export import select_packages
    from ghostenv.materialize.venv import create_venv
    from ghostenv.workflow.plan import Action, apply_plan, installed_dists, plan_install
    from ghostenv.workflow.sources import choose_wheel, wanted_for

    plugins.before_sync(env_path, lock_dir / "uv.lock")
    report = SyncReport()
    tags = interpreter.tag_strings()
    packages = select_packages(lock, options, interpreter.markers, project)
    plans = [choose_wheel(p, tags, lock_dir) for p in packages]
    wanted: list[Wanted] = []
    for plan in plans:
        wanted.append(wanted_for(plan, interpreter, store, settings=settings, progress=progress))
        if plan.sdist:
            report.built.append(plan.name)
    wanted.extend(extra)

    stale = _foreign_interpreter(env_path / "pyvenv.cfg", interpreter)
    if stale is not None:
        report.recreated = stale
    layout = create_venv(env_path, interpreter, clear=stale is not None, prompt=prompt,
                         command=f"ghostenv sync --python {interpreter.base_executable}")
    report.python = layout.python
    report.site_packages = tuple(dict.fromkeys((layout.purelib, layout.platlib)))
    report.total = len(wanted)
    if not exact:
        names = {normalize(w.name) for w in wanted} | {normalize(k) for k in keep}
        report.extraneous = sum(1 for name in installed_dists(layout) if name not in names)
    steps = plan_install(wanted, layout, store, exact=exact, keep=keep)
    expect = getattr(progress, "expect", None)
    if expect is not None:  # a display that shows bytes (ghostenv.cli.progress.Progress)
        sizes = {p.filename: p.size for p in plans}
        expect({s.wanted.filename: sizes.get(s.wanted.filename)
                for s in steps.of(Action.DOWNLOAD) if s.wanted is not None})
    _phase(progress, "Installing")
    done = apply_plan(steps, layout, store, progress=progress, offline=offline, exact=exact)
    report.installed = list(done.installed)
    report.removed = list(done.removed)
    report.downloaded = done.downloaded
    report.unchanged = done.unchanged
    report.install_ms = done.install_ms
    report.download_ms = done.download_ms
    for note in done.fallbacks:
        progress(note)
    plugins.after_sync(env_path, report.installed, report.removed)
    return report


def _lock_name(lock: Lock, name: str) -> str | None:
    """The project ``name`` as ``lock`` spells it (uv always lists the project), or None."""
    want = normalize(name)
    return next((p.name for p in lock.packages
                 if normalize(p.name) == want and p.source.kind in ("editable", "virtual")), None)


def _phase(progress: Callable[[str], None], label: str) -> None:
    """Tell a progress display (if it has phases) what is happening now."""
    phase = getattr(progress, "phase", None)
    if phase is not None:
        phase(label)


# --- the project-level sync: lock check, interpreter, selection, editable project, gate ---


def sync_project(
    root: Path,
    env_dir: Path,
    selection: Selection,
    *,
    cache_dir: Path,
    offline: bool = False,
    locked: bool = False,
    progress: Callable[[str], None] = lambda _text: None,
) -> SyncReport:
    """What ``ghostenv sync`` does once the gate said the environment is stale.

    The gate's record is dropped before anything in the environment changes and
    written again only at the end, so a sync killed halfway (Ctrl-C, SIGKILL)
    leaves an environment the next gate check calls stale, and the next sync
    completes it. Everything runs under the environment's lock; the gate is
    asked again once the lock is held, so of two concurrent syncs the second
    finds the first one's work and stops.
    """
    from ghostenv.project.read import read_project
    from ghostenv.store import Store
    from ghostenv.workflow import gate

    marks: list[tuple[str, float]] = [("start", time.perf_counter())]
    project = read_project(root)
    marks.append(("project", time.perf_counter()))
    lock, lock_message = _current_lock(root, project, frozen=not selection.checked,
                                       locked=locked, cache_dir=cache_dir, offline=offline,
                                       progress=progress)
    marks.append(("lock", time.perf_counter()))
    interpreter = _choose_interpreter(project, env_dir, selection.python, cache_dir)
    options = _export_options(project, selection)
    marks.append(("interpreter", time.perf_counter()))
    store = Store(cache_dir / "store")
    with env_lock(store, env_dir):
        if gate.check(str(root), str(env_dir), selection) is None:
            state = gate.load(str(env_dir))
            return SyncReport(total=state.count if state is not None else 0,
                              locked=lock_message)
        gate.forget(str(env_dir))
        install_project = not project.virtual and not selection.no_install_project
        def settings() -> IndexSettings:  # resolve's modules are imported only for builds
            return index_settings(project, cache_dir=cache_dir, offline=offline)

        extra = [_editable_wanted(project, root, interpreter, store, settings=settings(),
                                  progress=progress)
                 ] if install_project else []
        report = sync_locked(lock, root, env_dir, interpreter, store, options=options,
                             keep=(project.name,), prompt=project.name, progress=progress,
                             exact=selection.exact, extra=extra, settings=settings,
                             project=_lock_name(lock, project.name),
                             offline=offline)
        report.locked = lock_message
        marks.append(("environment", time.perf_counter()))
        if install_project:
            report.built.append(f"{project.name} (editable)")
        assert report.python is not None
        if report.extraneous == 0:
            selection = selection.as_exact()
        gate.record(str(root), str(env_dir), selection, interpreter=str(report.python),
                    site_packages=[str(p) for p in report.site_packages],
                    count=report.total)
        marks.append(("record", time.perf_counter()))
    report.timings = [(name, (t - marks[i][1]) * 1000) for i, (name, t) in enumerate(marks[1:])]
    return report


def _current_lock(root: Path, project: Project, *, frozen: bool, locked: bool, cache_dir: Path,
                  offline: bool, progress: Callable[[str], None]) -> tuple[Lock, str | None]:
    """The lock to sync from, after locking when it no longer satisfies the project.

    ``frozen``: taken as is. ``locked``: a lock that would change is an error.
    Otherwise a lock that satisfies pyproject.toml is used without resolving
    (as uv does), and a stale or missing one is re-locked first.
    """
    from ghostenv.lock.read import read_lock
    from ghostenv.lock.satisfies import satisfies

    path = root / "uv.lock"
    if frozen:
        if not path.is_file():
            raise LockError(f"{path}: no lock to sync with --frozen",
                            hint="run `ghostenv lock` first, or sync without --frozen")
        return read_lock(path), None
    from ghostenv.lock.current import lock_is_current, record_current

    if not path.is_file():
        reason: str | None = "uv.lock missing"
    elif lock_is_current(root, cache_dir):  # verified before (by sync or `ghostenv lock`)
        return read_lock(path), None
    else:
        pyproject_bytes, lock_bytes = (root / "pyproject.toml").read_bytes(), path.read_bytes()
        current = read_lock(path)
        reason = satisfies(current, project)
        if reason is None:
            if not project.workspace_members:  # members' files would be inputs too
                record_current(root, {"pyproject.toml": pyproject_bytes, "uv.lock": lock_bytes},
                               cache_dir)
            return current, None
    if locked:
        raise LockError(f"{path} needs to be updated: {reason}",
                        hint="run `ghostenv lock`, or sync with --frozen to use it as is")
    from ghostenv.workflow.lock import lock_project

    _phase(progress, "Resolving")
    outcome = lock_project(root, settings=index_settings(project, cache_dir=cache_dir,
                                                         offline=offline),
                           mode="write", cache_dir=cache_dir)
    message = f"Locked uv.lock ({reason})" if outcome.changed else None
    return read_lock(path), message


def index_settings(project: Project, *, cache_dir: Path, offline: bool) -> IndexSettings:
    """Where to resolve and fetch: GHOSTENV_INDEX_URL / UV_INDEX_URL or PyPI, replaced by
    the project's own indexes when it names any (as ``ghostenv lock`` does); find-links
    from GHOSTENV_FIND_LINKS / UV_FIND_LINKS (space- or comma-separated)."""
    from ghostenv.resolve.index_source import DEFAULT_INDEX, IndexSettings
    from ghostenv.workflow.lock import project_settings

    links = os.environ.get("GHOSTENV_FIND_LINKS") or os.environ.get("UV_FIND_LINKS") or ""
    base = IndexSettings(
        index_url=os.environ.get("GHOSTENV_INDEX_URL") or os.environ.get("UV_INDEX_URL")
        or DEFAULT_INDEX, find_links=tuple(links.replace(",", " ").split()),
        cache_dir=cache_dir, offline=offline)
    return project_settings(project, base)


def _choose_interpreter(project: Project, env_dir: Path, request: str | None,
                        cache_dir: Path) -> Interpreter:
    """``--python`` when given; else the environment's own interpreter while it still
    satisfies requires-python and ``.python-version`` (as uv); else ``.python-version``'s
    request; else the first interpreter that satisfies requires-python."""
    from ghostenv.discover import find_interpreter, parse_request
    from ghostenv.errors import InterpreterError

    if request is None:
        pinned = _python_version_file(project.root)
        base = _venv_base(env_dir)
        if base is not None:
            try:
                interp = find_interpreter(base, cache_dir)
            except InterpreterError:
                interp = None
            if interp is not None and (project.requires_python is None or
                                       project.requires_python.contains(
                                           interp.version_str, prereleases=True)) and (
                    pinned is None or parse_request(pinned).matches(interp)):
                return interp
        if pinned is not None:
            request = pinned
        elif project.requires_python is not None:
            request = str(project.requires_python)
    return _find_remembered(request, cache_dir)


def _python_version_file(root: Path) -> str | None:
    """The first request in the project's ``.python-version`` (comments skipped), if any."""
    from ghostenv.workflow.frozen_python import python_version_file

    return python_version_file(os.fspath(root))


def _venv_base(env_dir: Path) -> str | None:
    """The base interpreter a venv points at (``executable`` in pyvenv.cfg), if it exists.

    Probing the base (cached by its path and stat) instead of the venv's own
    ``bin/python`` keeps one probe-cache entry for every environment made from it.
    """
    from ghostenv.workflow.frozen_python import venv_base

    return venv_base(os.fspath(env_dir))


def _find_remembered(request: str | None, cache_dir: Path) -> Interpreter:
    """:func:`find_interpreter` for a version request, remembering the answer for an hour.

    The search probes (or reads the probe cache of) every Python on PATH and in
    pyenv: tens of ms. The choice depends on the request and on PATH, so both
    key the memo; the remembered interpreter is still checked against the
    request (one cached probe) before it is used.
    """
    import hashlib

    from ghostenv.discover import find_interpreter, parse_request
    from ghostenv.errors import InterpreterError

    parsed = parse_request(request)
    if parsed.path is not None:
        return find_interpreter(parsed, cache_dir)
    key = hashlib.sha256("\0".join((request or "", os.environ.get("PATH", ""),
                                     os.environ.get("VIRTUAL_ENV", ""))).encode()).hexdigest()
    memo = cache_dir / "interpreter-choice-v1" / f"{key[:32]}.txt"
    try:
        if time.time() - memo.stat().st_mtime < CHOICE_TTL:
            interp = find_interpreter(memo.read_text("utf-8").strip(), cache_dir)
            if parsed.matches(interp):
                return interp
    except (OSError, InterpreterError):
        pass
    interp = find_interpreter(parsed, cache_dir)
    from ghostenv.fsutil import write_atomic

    with suppress(OSError):
        write_atomic(memo, str(interp.path).encode())
    return interp


def _export_options(project: Project, selection: Selection) -> ExportOptions:
    """The lock packages to select: uv's default `dev` group plus what was asked."""
    from ghostenv.errors import UsageError
    from ghostenv.lock.export import ExportOptions

    known_groups = {normalize(name) for name, _ in project.groups}
    for group in selection.groups:
        if normalize(group) not in known_groups:
            raise UsageError(f"group `{group}` is not defined in {project.path}'s "
                             "[dependency-groups]",
                             hint=f"defined: {', '.join(sorted(known_groups)) or 'none'}")
    known_extras = {normalize(name) for name, _ in project.optional_dependencies}
    for extra in selection.extras:
        if normalize(extra) not in known_extras:
            raise UsageError(f"extra `{extra}` is not defined in {project.path}'s "
                             "[project.optional-dependencies]",
                             hint=f"defined: {', '.join(sorted(known_extras)) or 'none'}")
    groups = [] if selection.no_default_groups else list(project.default_group_names())
    groups += [normalize(g) for g in selection.groups]  # uv.lock spells them normalized
    all_groups = selection.all_groups
    if selection.no_dev:  # uv: `--no-group dev`, which wins over defaults, --group, --all-groups
        if all_groups:
            groups, all_groups = [name for name, _ in project.groups], False
        groups = [g for g in groups if g != "dev"]
    return ExportOptions(extras=tuple(dict.fromkeys(normalize(e) for e in selection.extras)),
                         all_extras=selection.all_extras,
                         groups=tuple(dict.fromkeys(groups)), all_groups=all_groups)


def _editable_wanted(project: Project, root: Path, interpreter: Interpreter, store: Store, *,
                     settings: IndexSettings, progress: Callable[[str], None]) -> Wanted:
    """The project's PEP 660 editable wheel (built through ghostenv.build, cached by its
    source), as one more wheel for the install plan."""
    from ghostenv.build import build_wheel
    from ghostenv.workflow.plan import Wanted

    wheel = build_wheel(root, interpreter=interpreter, settings=settings, store=store,
                        editable=True, log=progress)
    version = wheel.name.split("-")[1]
    return Wanted(project.name, version, wheel.name, path=wheel, requested=True,
                  direct_url={"url": root.as_uri(), "dir_info": {"editable": True}})
