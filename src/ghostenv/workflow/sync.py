"""``sync --frozen``: make an environment hold exactly what uv.lock selects for it.

The lock is taken as is (no resolving). Packages are selected by evaluating the
markers along every dependency path from the project root
(:func:`ghostenv.lock.export.needed`) against the target interpreter; each one
gets the best wheel for the interpreter's tags. A wheel whose manifest is
already in the store is never downloaded again -- the lock's sha256 is the
store key -- so a warm store turns a sync into linking files. What the
environment holds but the lock does not select is removed (exact sync).

Not done yet, and said so rather than faked: building sdists (and so
installing the project itself), git/path/directory dependencies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import BuildError, LockError, NetworkError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.model import Artifact, Lock, Package
    from ghostenv.project.model import Project
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.gate import Selection
    from ghostenv.workflow.plan import Wanted

#: Parallel downloads; enough to hide latency on one HTTP/2 connection.
DOWNLOADS = 16


@dataclass(frozen=True, slots=True)
class Planned:
    """One selected package and the artifact chosen for it (a wheel, or an sdist to build)."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str | None
    sdist: bool = False
    """Build it first: ``url`` names an sdist, or a source directory (``file:``)."""
    size: int | None = None
    editable: bool = False


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


def normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _artifact_url(artifact: Artifact, base: Path, package: Package | None = None) -> str:
    if artifact.url is not None:
        return artifact.url
    if artifact.path is not None:
        return (base / artifact.path).resolve().as_uri()
    if package is not None and package.source.kind == "path":
        # a `path` source names the file itself; the artifact only carries its file name
        return (base / package.source.value).resolve().as_uri()
    raise LockError(f"uv.lock: artifact {artifact.name} has neither url nor path")


def _digest(artifact: Artifact) -> str | None:
    value = artifact.hash or ""
    return value.split(":", 1)[1].lower() if value.startswith("sha256:") else None


def choose_wheel(package: Package, tags: list[str], base: Path) -> Planned:
    """The wheel of ``package`` whose best tag ranks highest for this interpreter,
    else its sdist (to be built)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if package.source.kind in ("directory", "editable"):  # a local project: built from source
        folder = (base / package.source.value).resolve()
        return Planned(package.name, package.version or "", folder.name, folder.as_uri(), None,
                       sdist=True, editable=package.source.kind == "editable")
    if package.source.kind == "git":  # `url?query#commit`: checked out once, then built
        sub = package.source.subdirectory
        return Planned(package.name, package.version or "", package.name,
                       "git+" + package.source.value + (f"&subdirectory={sub}" if sub else ""),
                       None, sdist=True)
    if package.source.kind not in ("registry", "url", "path"):
        raise BuildError(
            f"{package.name}: {package.source.kind} source `{package.source.value}` "
            "cannot be installed yet",
            hint="ghostenv sync installs registry, URL, path and directory sources for now",
        )
    rank = {tag: i for i, tag in enumerate(tags)}
    best: tuple[int, Artifact] | None = None
    for wheel in package.wheels:
        name = wheel.name or ""
        try:
            wheel_tags = parse_wheel_filename(name)[3]
        except InvalidWheelFilename as exc:
            raise LockError(f"uv.lock: {package.name}: bad wheel file name {name!r}") from exc
        score = min((rank[str(t)] for t in wheel_tags if str(t) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    if best is None:
        sdist = package.sdist
        if sdist is not None and (sdist.url is not None or sdist.path is not None
                                  or package.source.kind == "path"):
            return Planned(package.name, package.version or "", sdist.name or "",
                           _artifact_url(sdist, base, package), _digest(sdist), sdist=True,
                           size=sdist.size)
        if package.wheels:
            raise BuildError(
                f"{package.name}=={package.version}: no wheel in uv.lock matches this "
                f"interpreter ({tags[0] if tags else 'no tags'}) and it has no sdist",
                hint="pick another --python",
            )
        raise BuildError(f"{package.name}=={package.version}: uv.lock lists no wheel and no sdist",
                         hint="re-lock with `ghostenv lock`")
    wheel = best[1]
    return Planned(package.name, package.version or "", wheel.name or "",
                   _artifact_url(wheel, base, package), _digest(wheel), size=wheel.size)


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
    values = {
        key.strip(): value.strip()
        for key, sep, value in (line.partition("=") for line in text.splitlines())
        if sep
    }
    have = values.get("version_info", values.get("version", ""))
    want = interpreter.python_version
    if ".".join(have.split(".")[:2]) != want:
        return f"it was made for Python {have or 'unknown'}, not {want}"
    impl = values.get("implementation")
    if impl is not None and impl.lower() != interpreter.implementation.lower():
        return f"it was made for {impl}, not {interpreter.implementation}"
    return None


def _git_checkout(url: str, store: Store) -> Path:
    """The source tree of a locked git source (``git+URL[?query]#COMMIT``), cloned once into
    ``<store>/git-v1/<commit>`` and shared by every later sync."""
    import shutil
    import subprocess
    from urllib.parse import parse_qs

    spec = url.removeprefix("git+")
    spec, _, commit = spec.partition("#")
    repo, _, query = spec.partition("?")
    subdirectory = parse_qs(query).get("subdirectory", [""])[0] or None
    commit = commit.partition("&")[0]
    if not commit:
        raise LockError(f"uv.lock: git source {spec} names no commit", hint="re-lock")
    target = store.root / "git-v1" / commit
    if not (target / ".ghostenv-complete").is_file():
        temp = target.with_name(f".{commit}.{os.getpid()}.tmp")
        shutil.rmtree(temp, ignore_errors=True)
        temp.parent.mkdir(parents=True, exist_ok=True)
        for command in (["git", "clone", "--quiet", repo, str(temp)],
                        ["git", "-C", str(temp), "checkout", "--quiet", commit]):
            try:
                proc = subprocess.run(command, capture_output=True, text=True, check=False)
            except FileNotFoundError:
                raise BuildError("git is needed to install a git source and was not found",
                                 hint="install git") from None
            if proc.returncode != 0:
                shutil.rmtree(temp, ignore_errors=True)
                raise BuildError(f"{' '.join(command[:3])} {repo}@{commit}: "
                                 f"{proc.stderr.strip().splitlines()[-1:]}",
                                 hint="check the repository URL and that the commit exists")
        (temp / ".ghostenv-complete").write_text(f"{repo}#{commit}\n")
        try:
            os.replace(temp, target)
        except OSError:  # another sync got there first
            shutil.rmtree(temp, ignore_errors=True)
    return target / subdirectory if subdirectory else target


def _fetch_sdist(plan: Planned, store: Store) -> Path:
    """The sdist file of ``plan`` (kept in the store by its sha256; downloaded once)."""
    import hashlib
    from urllib.parse import unquote, urlparse

    if plan.url.startswith("file:"):
        return Path(unquote(urlparse(plan.url).path))
    folder = store.root / "sdists-v1" / (plan.sha256 or hashlib.sha256(
        plan.url.encode()).hexdigest())
    target = folder / plan.filename
    if target.is_file():
        return target
    import httpx

    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{plan.filename}.{os.getpid()}.part"
    digest = hashlib.sha256()
    try:
        with httpx.stream("GET", plan.url, follow_redirects=True, timeout=30.0) as response:
            if response.status_code != 200:
                raise NetworkError(f"{plan.url}: HTTP {response.status_code} downloading "
                                   f"{plan.filename}", hint="check the index, or re-lock")
            with temp.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 16):
                    digest.update(chunk)
                    handle.write(chunk)
        if plan.sha256 is not None and digest.hexdigest() != plan.sha256:
            from ghostenv.errors import HashMismatchError

            raise HashMismatchError(f"{plan.filename}: sha256 {digest.hexdigest()} does not "
                                    f"match uv.lock's {plan.sha256}",
                                    hint="the index changed the file; re-lock")
        os.replace(temp, target)
    except httpx.HTTPError as exc:
        raise NetworkError(f"{plan.url}: {type(exc).__name__}: {exc}",
                           hint="check your connection and retry") from exc
    finally:
        temp.unlink(missing_ok=True)
    return target


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
    from ghostenv.workflow.plan import Action, Wanted, apply_plan, installed_dists, plan_install

    plugins.before_sync(env_path, lock_dir / "uv.lock")
    report = SyncReport()
    tags = interpreter.tag_strings()
    packages = select_packages(lock, options, interpreter.markers, project)
    plans = [choose_wheel(p, tags, lock_dir) for p in packages]
    wanted: list[Wanted] = []
    for plan in plans:
        if plan.sdist:
            wheel = _build_sdist(plan, interpreter, store, settings, progress)
            report.built.append(plan.name)
            direct: dict[str, object] | None = None
            if plan.url.startswith("file:") and not plan.url.endswith((".tar.gz", ".zip")):
                direct = {"url": plan.url, "dir_info": {"editable": True} if plan.editable else {}}
            elif plan.url.startswith("git+"):
                repo, _, commit = plan.url.removeprefix("git+").partition("#")
                direct = {"url": repo.partition("?")[0],
                          "vcs_info": {"vcs": "git", "commit_id": commit.partition("&")[0]}}
            wanted.append(Wanted(plan.name, plan.version or wheel.name.split("-")[1], wheel.name,
                                 path=wheel, requested=True, direct_url=direct))
        else:
            wanted.append(Wanted(plan.name, plan.version, plan.filename, url=plan.url,
                                 sha256=plan.sha256, requested=True))
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


def _build_sdist(plan: Planned, interpreter: Interpreter, store: Store,
                 settings: IndexSettings | Callable[[], IndexSettings] | None,
                 progress: Callable[[str], None]) -> Path:
    """A wheel built from ``plan``'s sdist (cached in the store by the sdist's hash)."""
    if settings is None:
        raise BuildError(f"{plan.name}=={plan.version}: uv.lock has only an sdist, and this "
                         "caller gave no index settings to build it with",
                         hint="use `ghostenv sync` for this project")
    from ghostenv.build import build_wheel

    if callable(settings):
        settings = settings()
    sdist = _git_checkout(plan.url, store) if plan.url.startswith("git+") else _fetch_sdist(
        plan, store)
    progress(f"Building {plan.filename}")
    return build_wheel(sdist, interpreter=interpreter, settings=settings, store=store,
                       editable=plan.editable, log=progress)


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
    satisfies requires-python (as uv); else the first one that does."""
    from ghostenv.discover import find_interpreter
    from ghostenv.errors import InterpreterError

    if request is None:
        base = _venv_base(env_dir)
        if base is not None:
            try:
                interp = find_interpreter(base, cache_dir)
            except InterpreterError:
                interp = None
            if interp is not None and (project.requires_python is None or
                                       project.requires_python.contains(
                                           interp.version_str, prereleases=True)):
                return interp
        if project.requires_python is not None:
            request = str(project.requires_python)
    return _find_remembered(request, cache_dir)


def _venv_base(env_dir: Path) -> str | None:
    """The base interpreter a venv points at (``executable`` in pyvenv.cfg), if it exists.

    Probing the base (cached by its path and stat) instead of the venv's own
    ``bin/python`` keeps one probe-cache entry for every environment made from it.
    """
    try:
        text = (env_dir / "pyvenv.cfg").read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "executable" and os.path.isfile(value.strip()):
            return value.strip()
    return None


#: How long a remembered "request -> interpreter" choice is trusted without searching again.
CHOICE_TTL = 3600.0


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
    groups = [] if selection.no_default_groups or selection.no_dev else ["dev"]
    groups += selection.groups
    return ExportOptions(extras=selection.extras, all_extras=selection.all_extras,
                         groups=tuple(dict.fromkeys(groups)), all_groups=selection.all_groups)


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
