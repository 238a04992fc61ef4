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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import BuildError, LockError, NetworkError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.model import Artifact, Lock, Package
    from ghostenv.materialize.venv import VenvLayout
    from ghostenv.store import Store, WheelManifest

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
) -> SyncReport:
    """Create or refresh the venv at ``env_path`` and make it match ``lock`` exactly.

    ``keep`` names distributions never removed (the project itself, which
    another tool may have installed editable). Concurrent syncs of one
    environment are serialized by a file lock in the store, so two processes
    both end with the complete environment.
    """
    import hashlib

    from filelock import FileLock

    locks = store.root / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    key = hashlib.sha256(os.fsencode(os.path.abspath(env_path))).hexdigest()[:32]
    with FileLock(str(locks / f"env-{key}.lock")):
        return _sync_locked(lock, lock_dir, env_path, interpreter, store, options=options,
                            keep=keep, prompt=prompt, progress=progress)


def _sync_locked(
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
) -> SyncReport:
    from ghostenv.lock.export import select_packages
    from ghostenv.materialize.install import install_wheel
    from ghostenv.materialize.uninstall import uninstall
    from ghostenv.materialize.venv import create_venv

    report = SyncReport()
    tags = [str(t) for t in interpreter.tags()]
    packages = select_packages(lock, options, interpreter.markers)
    plans = [choose_wheel(p, tags, lock_dir) for p in packages]

    stale = _foreign_interpreter(env_path / "pyvenv.cfg", interpreter)
    if stale is not None:
        report.recreated = stale
    layout = create_venv(env_path, interpreter, clear=stale is not None, prompt=prompt,
                         command=f"ghostenv sync --python {interpreter.path}")
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
    return report
