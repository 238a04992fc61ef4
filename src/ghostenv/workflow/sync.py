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
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import BuildError, LockError, NetworkError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.model import Artifact, Lock, Package
    from ghostenv.materialize.venv import VenvLayout
    from ghostenv.project.model import Project
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store, WheelManifest
    from ghostenv.workflow.gate import Selection

#: Parallel downloads; enough to hide latency on one HTTP/2 connection.
DOWNLOADS = 16


@dataclass(frozen=True, slots=True)
class Planned:
    """One selected package and the wheel chosen for it."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str | None


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
    extraneous: int = 0
    """Packages an inexact sync left in place although the lock does not select them."""
    """Packages the environment holds for the lock (installed now or before)."""
    built: list[str] = field(default_factory=list)
    locked: str | None = None
    """What locking did, when sync had to lock first."""
    python: Path | None = None
    site_packages: tuple[Path, ...] = ()


def normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _artifact_url(artifact: Artifact, base: Path) -> str:
    if artifact.url is not None:
        return artifact.url
    if artifact.path is not None:
        return (base / artifact.path).resolve().as_uri()
    raise LockError(f"uv.lock: wheel {artifact.name} has neither url nor path")


def choose_wheel(package: Package, tags: list[str], base: Path) -> Planned:
    """The wheel of ``package`` whose best tag ranks highest for this interpreter."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if package.source.kind not in ("registry", "url", "path"):
        raise BuildError(
            f"{package.name}: {package.source.kind} source `{package.source.value}` "
            "cannot be installed yet",
            hint="ghostenv sync installs wheels from registries and URLs only for now",
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
        if package.wheels:
            raise BuildError(
                f"{package.name}=={package.version}: no wheel in uv.lock matches this "
                f"interpreter ({tags[0] if tags else 'no tags'})",
                hint="building from the sdist is not supported yet; pick another --python",
            )
        raise BuildError(
            f"{package.name}=={package.version}: uv.lock has only an sdist, and building is "
            "not supported yet",
            hint="use `uv sync` for this project until ghostenv can build sdists",
        )
    wheel = best[1]
    digest = wheel.hash.split(":", 1)[1].lower() if wheel.hash and wheel.hash.startswith(
        "sha256:") else None
    return Planned(package.name, package.version or "", wheel.name or "",
                   _artifact_url(wheel, base), digest)


def installed_dists(layout: VenvLayout) -> dict[str, tuple[str, Path]]:
    """``normalized name -> (version, dist-info path)`` of what the environment holds."""
    found: dict[str, tuple[str, Path]] = {}
    for site in dict.fromkeys((layout.purelib, layout.platlib)):
        if not site.is_dir():
            continue
        for entry in site.iterdir():
            if entry.suffix == ".dist-info":
                name, _, version = entry.name[: -len(".dist-info")].partition("-")
                if not (entry / "RECORD").is_file():
                    version = ""  # RECORD is written last: an interrupted install, redo it
                found[normalize(name)] = (version, entry)
    return found


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


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


async def _fetch_all(plans: list[Planned], store: Store,
                     progress: Callable[[str], None]) -> dict[str, WheelManifest]:
    """Download every plan (one HTTP/2 client, bounded parallelism) straight into the store."""
    import asyncio

    import httpx

    results: dict[str, WheelManifest] = {}
    gate = asyncio.Semaphore(DOWNLOADS)

    async def one(client: httpx.AsyncClient, plan: Planned) -> None:
        async with gate:
            if plan.url.startswith("file:"):
                from urllib.parse import unquote, urlparse

                path = Path(unquote(urlparse(plan.url).path))
                results[plan.name] = await asyncio.to_thread(
                    store.add_wheel, path, expected_sha256=plan.sha256, filename=plan.filename)
                return
            store.tmp.mkdir(parents=True, exist_ok=True)
            temp = store.tmp / f"dl-{os.getpid()}-{id(plan)}-{plan.filename}"
            try:
                async with client.stream("GET", plan.url) as response:
                    if response.status_code != 200:
                        raise NetworkError(
                            f"{plan.url}: HTTP {response.status_code} downloading {plan.filename}",
                            hint="check the index is reachable, or re-lock")
                    with temp.open("wb") as handle:
                        async for chunk in response.aiter_bytes(1 << 16):
                            handle.write(chunk)
                progress(f"Downloaded {plan.filename}")
                results[plan.name] = await asyncio.to_thread(
                    store.add_wheel, temp, expected_sha256=plan.sha256, filename=plan.filename)
            except httpx.HTTPError as exc:
                raise NetworkError(f"{plan.url}: {type(exc).__name__}: {exc}",
                                   hint="check your connection and retry") from exc
            finally:
                temp.unlink(missing_ok=True)

    http2 = os.environ.get("GHOSTENV_HTTP2", "1") != "0"
    client = httpx.AsyncClient(http2=http2, follow_redirects=True, timeout=httpx.Timeout(30.0))
    async with client, asyncio.TaskGroup() as group:
        for plan in plans:
            group.create_task(one(client, plan))
    return results


def _unwrap(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from the task group."""
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


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


def env_lock(store: Store, env_path: Path) -> AbstractContextManager[object]:
    """A cross-process lock for one environment (a file in the store, keyed by its path)."""
    import hashlib

    from filelock import FileLock

    locks = store.root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(os.fsencode(os.path.abspath(env_path))).hexdigest()[:32]
    return FileLock(str(locks / f"env-{key}.lock"))


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
) -> SyncReport:
    """:func:`sync_environment` for a caller already holding :func:`env_lock`."""
    from ghostenv import plugins
    from ghostenv.lock.export import select_packages
    from ghostenv.materialize.install import install_wheel
    from ghostenv.materialize.uninstall import uninstall
    from ghostenv.materialize.venv import create_venv

    plugins.before_sync(env_path, lock_dir / "uv.lock")
    report = SyncReport()
    tags = [str(t) for t in interpreter.tags()]
    packages = select_packages(lock, options, interpreter.markers)
    plans = [choose_wheel(p, tags, lock_dir) for p in packages]

    stale = _foreign_interpreter(env_path / "pyvenv.cfg", interpreter)
    if stale is not None:
        report.recreated = stale
    layout = create_venv(env_path, interpreter, clear=stale is not None, prompt=prompt,
                         command=f"ghostenv sync --python {interpreter.base_executable}")
    report.python = layout.python
    report.site_packages = tuple(dict.fromkeys((layout.purelib, layout.platlib)))
    report.total = len(plans)
    have = installed_dists(layout)
    wanted = {normalize(p.name): p for p in plans}
    keep_names = {normalize(k) for k in keep}

    start = time.perf_counter()
    for name, (version, dist_info) in sorted(have.items()):
        plan = wanted.get(name)
        if plan is not None and _same_version(version, plan.version):
            continue
        if plan is None and name in keep_names:
            continue
        if plan is None and not exact:
            report.extraneous += 1
            continue
        if not version and plan is not None:
            continue  # half-installed: installing again replaces its files
        uninstall(dist_info, env_root=layout.root)
        if plan is None:
            report.removed.append(f"{name}=={version}")
    todo = [p for p in plans if not (normalize(p.name) in have and
                                     _same_version(have[normalize(p.name)][0], p.version))]
    report.unchanged = len(plans) - len(todo)

    manifests: dict[str, WheelManifest] = {}
    missing: list[Planned] = []
    for plan in todo:
        cached = store.get_manifest(plan.sha256) if plan.sha256 else None
        if cached is not None:
            manifests[plan.name] = cached
        else:
            missing.append(plan)
    if missing:
        import asyncio

        fetch_start = time.perf_counter()
        try:
            manifests.update(asyncio.run(_fetch_all(missing, store, progress)))
        except BaseExceptionGroup as group:
            raise _unwrap(group) from None
        report.downloaded = len(missing)
        report.download_ms = (time.perf_counter() - fetch_start) * 1000

    scheme = {
        "purelib": str(layout.purelib),
        "platlib": str(layout.platlib),
        "scripts": str(layout.scripts),
        "data": str(layout.root),
    }
    version_dir = f"python{interpreter.python_version}"
    for plan in todo:
        manifest = manifests[plan.name]
        headers = layout.root / "include" / "site" / version_dir / manifest.name
        install_wheel(manifest, store, {**scheme, "headers": str(headers)},
                      interpreter=layout.python, supported_tags=None, requested=True)
        report.installed.append(f"{plan.name}=={plan.version}")
    store.track(layout.root, [m.wheel_sha256 for m in manifests.values()]
                + [p.sha256 for p in plans if p.sha256 and p.name not in manifests],
                replace=True)
    report.install_ms = (time.perf_counter() - start) * 1000 - report.download_ms
    plugins.after_sync(env_path, report.installed, report.removed)
    return report


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

    project = read_project(root)
    lock, lock_message = _current_lock(root, project, frozen=not selection.checked,
                                       locked=locked, cache_dir=cache_dir, offline=offline)
    interpreter = _choose_interpreter(project, env_dir, selection.python, cache_dir)
    options = _export_options(project, selection)
    store = Store(cache_dir / "store")
    with env_lock(store, env_dir):
        if gate.check(str(root), str(env_dir), selection) is None:
            state = gate.load(str(env_dir))
            return SyncReport(total=state.count if state is not None else 0,
                              locked=lock_message)
        gate.forget(str(env_dir))
        install_project = not project.virtual and not selection.no_install_project
        report = sync_locked(lock, root, env_dir, interpreter, store, options=options,
                             keep=(project.name,), prompt=project.name, progress=progress,
                             exact=selection.exact)
        report.locked = lock_message
        if install_project:
            _install_editable(project, root, report, interpreter, store, cache_dir=cache_dir,
                              offline=offline)
        assert report.python is not None
        if report.extraneous == 0:
            selection = selection.as_exact()
        gate.record(str(root), str(env_dir), selection, interpreter=str(report.python),
                    site_packages=[str(p) for p in report.site_packages],
                    count=report.total + (1 if install_project else 0))
    return report


def _current_lock(root: Path, project: Project, *, frozen: bool, locked: bool, cache_dir: Path,
                  offline: bool) -> tuple[Lock, str | None]:
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
    reason = "uv.lock missing" if not path.is_file() else satisfies(read_lock(path), project)
    if reason is None:
        return read_lock(path), None
    if locked:
        raise LockError(f"{path} needs to be updated: {reason}",
                        hint="run `ghostenv lock`, or sync with --frozen to use it as is")
    from ghostenv.workflow.lock import lock_project

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
        env_python = env_dir / "bin" / "python"
        if (env_dir / "pyvenv.cfg").is_file() and env_python.exists():
            try:
                interp = find_interpreter(str(env_python), cache_dir)
            except InterpreterError:
                interp = None
            if interp is not None and (project.requires_python is None or
                                       project.requires_python.contains(
                                           interp.version_str, prereleases=True)):
                return interp
        if project.requires_python is not None:
            request = str(project.requires_python)
    return find_interpreter(request, cache_dir)


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


def _install_editable(project: Project, root: Path, report: SyncReport,
                      interpreter: Interpreter, store: Store, *, cache_dir: Path,
                      offline: bool) -> None:
    """Build the project's PEP 660 editable wheel (through ghostenv.build) and install it."""
    try:
        from ghostenv.build import build_wheel
    except ImportError:
        report.warnings.append(f"the project `{project.name}` itself is not installed: building "
                               "it (editable) is not supported yet")
        return
    from ghostenv.materialize.install import install_wheel
    from ghostenv.materialize.uninstall import uninstall
    from ghostenv.materialize.venv import layout_for

    layout = layout_for(report.site_packages[0].parents[2], interpreter)
    started = time.perf_counter()
    wheel = build_wheel(root, interpreter=interpreter,
                        settings=index_settings(project, cache_dir=cache_dir, offline=offline),
                        store=store, editable=True)
    manifest = store.add_wheel(wheel)
    for name, (_version, dist_info) in installed_dists(layout).items():
        if name == normalize(project.name):
            uninstall(dist_info, env_root=layout.root)
    scheme = {"purelib": str(layout.purelib), "platlib": str(layout.platlib),
              "scripts": str(layout.scripts), "data": str(layout.root),
              "headers": str(layout.root / "include" / "site" /
                             f"python{interpreter.python_version}" / manifest.name)}
    install_wheel(manifest, store, scheme, interpreter=layout.python, supported_tags=None,
                  requested=True,
                  direct_url={"url": root.as_uri(), "dir_info": {"editable": True}})
    report.built.append(f"{project.name} (editable)")
    report.installed.append(f"{project.name}=={project.version or ''}")
    report.install_ms += (time.perf_counter() - started) * 1000
