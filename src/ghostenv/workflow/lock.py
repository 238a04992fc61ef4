"""``ghostenv lock``: keep uv.lock in step with pyproject.toml, touching it only when needed.

The order of questions is the order of their cost:

1. :func:`lock_is_current` — the recorded fingerprint (stat, then sha256) of
   the last pyproject/uv.lock pair that was verified to agree. Milliseconds, no
   TOML parsing, no network.
2. :func:`ghostenv.lock.satisfies.satisfies` — parse both files and compare the
   lock's recorded inputs with the project, as uv's ``--locked`` fast path does.
   No resolving, no network. A "yes" is recorded for step 1.
3. Resolve for every environment (:mod:`ghostenv.resolve.universal`), with the
   versions of the existing lock as preferences so a re-lock moves as little as
   possible (``--upgrade`` drops them all, ``--upgrade-package`` one), build
   the lock and write it only if it differs from the one on disk (compared as
   data, as uv does: a hand-formatted but equivalent lock is left alone).

``--check``/``--locked`` stop after step 2 and fail with the reason
(with ``--refresh`` they also re-resolve and compare, like
``uv lock --check --refresh``). Nothing
here writes uv.lock except the final atomic write, so every error (bad
pyproject, bad lock, failed resolution, network) leaves the old file as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ghostenv.errors import LockError
from ghostenv.lock.current import forget, lock_is_current, record_current

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    from ghostenv.index import DistFile
    from ghostenv.lock.model import Lock
    from ghostenv.project.model import Project
    from ghostenv.resolve.index_source import IndexSettings

Mode = Literal["write", "check", "locked"]

__all__ = ["LockOutcome", "lock_is_current", "lock_project", "project_settings"]


@dataclass(frozen=True, slots=True)
class LockOutcome:
    """What ``lock_project`` did.

    ``changed``: uv.lock was (re)written. ``reason``: why the existing lock did
    not do (None when it was up to date). ``packages``: number of
    ``[[package]]`` entries, when known (the fingerprint path does not parse).
    """

    changed: bool
    reason: str | None
    path: Path
    packages: int | None = None
    fast: bool = False


def project_settings(project: Project, base: IndexSettings) -> IndexSettings:
    """``base`` with the project's indexes (``[tool.ghostenv]``/``[tool.uv]``) if it names any.

    Command-line indexes win: the caller passes them in ``base`` and does not call this.
    """
    indexes = [i for i in project.indexes if not i.explicit]
    if not indexes:
        return base
    default = next((i for i in indexes if i.default), None)
    extras = [i.url for i in indexes if i is not default]
    if default is None:
        # uv searches named indexes before the default (PyPI)
        return replace(base, index_url=extras[0], extra_index_urls=(*extras[1:], base.index_url))
    return replace(base, index_url=default.url, extra_index_urls=tuple(extras))


def registry_url(url: str) -> str:
    """How uv writes an index in ``source = { registry = ... }``: as configured, minus credentials.

    The default PyPI index is written without its trailing slash.
    """
    from urllib.parse import urlsplit, urlunsplit

    if url.rstrip("/") == "https://pypi.org/simple":
        return "https://pypi.org/simple"
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        parts = parts._replace(netloc=host)
    return urlunsplit(parts)


@dataclass(frozen=True, slots=True)
class Seed:
    """What an existing lock contributes to a re-lock (uv's lock preferences).

    ``forks``: its top-level resolution-markers, in file order (uv starts from
    them, so a re-lock keeps its forks). ``preferences``: each locked registry
    version with the fork region it was locked for (its resolution-markers
    joined with ``or``; None = everywhere). ``--upgrade`` drops both (as if
    there were no lock), ``--upgrade-package P`` drops P's preferences.
    """

    forks: tuple[str, ...] = ()
    preferences: tuple[tuple[str, Version, str | None], ...] = ()

    def highest(self) -> dict[str, Version]:
        """One version per name (for resolvers that take plain preferences)."""
        out: dict[str, Version] = {}
        for name, version, _marker in self.preferences:
            if name not in out or version > out[name]:
                out[name] = version
        return out


def _seed(lock: Lock | None, upgrade: bool | frozenset[str]) -> Seed:
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if lock is None or upgrade is True:
        return Seed()
    dropped = {canonicalize_name(n) for n in upgrade} if upgrade else set()
    preferences = []
    for package in lock.packages:
        if package.source.kind != "registry" or package.version is None:
            continue
        if package.name in dropped:
            continue
        try:
            version = Version(package.version)
        except InvalidVersion:
            continue
        markers = package.resolution_markers
        marker = " or ".join(f"({m})" for m in markers) if markers else None
        preferences.append((package.name, version, marker))
    return Seed(lock.resolution_markers, tuple(preferences))


#: ``[tool.uv]`` settings that change what uv would write; ghostenv does not apply them
#: yet, so it refuses to lock rather than write a lock uv would disagree with.
UNSUPPORTED_UV_SETTINGS = (
    "resolution", "prerelease", "fork-strategy", "exclude-newer", "exclude-newer-package",
    "conflicts", "constraint-dependencies", "override-dependencies",
    "exclude-dependencies", "build-constraint-dependencies", "dependency-metadata",
    "dev-dependencies", "dependency-groups", "index-strategy",
)


def _unsupported(project: Project, pyproject_text: str) -> str | None:
    """The first project feature ``ghostenv lock`` cannot write the way uv would, if any."""
    import tomllib

    if project.workspace_members:
        return "workspaces"
    if project.sources:
        return "[tool.uv.sources]"
    dynamic = {"dependencies", "optional-dependencies"} & set(project.dynamic)
    if dynamic:
        return f"dynamic {' and '.join(sorted(dynamic))} (they need a build)"
    tool = tomllib.loads(pyproject_text).get("tool", {})
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    if isinstance(uv, dict):
        for key in UNSUPPORTED_UV_SETTINGS:
            if key in uv:
                return f"[tool.uv] {key}"
    return None


def index_key_of(settings: IndexSettings, *, project_indexes: bool) -> str:
    """The indexes given outside pyproject.toml, as the fingerprint records them ("" = none)."""
    if project_indexes:
        return ""
    return " ".join((settings.index_url, *settings.extra_index_urls))


def _index_reason(lock: Lock, settings: IndexSettings) -> str | None:
    """uv's last satisfies question: is every index the lock names still configured?

    Only http(s) registries are compared (trailing slashes aside); a lock made
    against another index is re-locked, as ``uv lock`` does.
    """
    configured = {
        registry_url(u).rstrip("/")
        for u in (settings.index_url, *settings.extra_index_urls)
    }
    for package in lock.packages:
        url = package.source.value
        if package.source.kind != "registry" or not url.startswith(("http://", "https://")):
            continue
        if url.rstrip("/") not in configured:
            return f"`{package.name}` comes from {url}, which is not a configured index"
    return None


def _read_text(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LockError(f"{path}: cannot read: {exc.strerror}") from exc


def lock_project(
    project_dir: Path,
    *,
    settings: IndexSettings | None = None,
    mode: Mode = "write",
    upgrade: bool | frozenset[str] = False,
    cache_dir: Path | None = None,
    project_indexes: bool = True,
    check_indexes: bool | None = None,
    log: Callable[[str], None] | None = None,
) -> LockOutcome:
    """Make ``project_dir/uv.lock`` satisfy the project (or, in check modes, say whether it does).

    ``settings`` are the index settings (``None`` = PyPI with the default
    cache); ``project_indexes`` lets the project's own index configuration
    replace them (pass False when the user named indexes on the command line).
    ``check_indexes``: also require every registry the lock names to be a
    configured index (uv's rule); default: when the project configures its own
    indexes. The CLI turns it on for ``--index-url``/``--extra-index-url``, not
    for ``UV_INDEX_URL``-style environment defaults, which CI jobs and hooks
    point at mirrors without meaning "re-lock against the mirror".
    Raises :class:`LockError` in ``check``/``locked`` mode when the lock is
    missing or outdated, and :class:`ProjectError`/:class:`LockError` on bad
    input; uv.lock is left untouched in every failing case.
    """
    from ghostenv.resolve.index_source import IndexSettings

    say = log or (lambda _text: None)
    root = Path(project_dir).resolve()
    lock_path = root / "uv.lock"
    settings = settings or IndexSettings(cache_dir=cache_dir)
    state_dir = cache_dir if cache_dir is not None else settings.cache_dir
    fresh_wanted = bool(upgrade) or settings.refresh
    index_key = index_key_of(settings, project_indexes=project_indexes)
    if not fresh_wanted and lock_is_current(root, state_dir, index_key):
        return LockOutcome(changed=False, reason=None, path=lock_path, fast=True)

    from ghostenv.lock.canonical import canonicalize
    from ghostenv.lock.read import loads
    from ghostenv.lock.satisfies import satisfies
    from ghostenv.project.read import parse_project

    pyproject_bytes = _read_text(root / "pyproject.toml")
    if pyproject_bytes is None:
        from ghostenv.errors import ProjectError

        raise ProjectError(f"{root / 'pyproject.toml'}: not found",
                           hint="run ghostenv in a project directory, or pass --project")
    try:
        pyproject_text = pyproject_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        from ghostenv.errors import ProjectError

        raise ProjectError(f"{root / 'pyproject.toml'}: not valid UTF-8 (byte {exc.start})",
                           hint="fix pyproject.toml") from exc
    project = parse_project(pyproject_text, root / "pyproject.toml")
    lock_bytes = _read_text(lock_path)
    existing: Lock | None = None
    reason: str | None = "uv.lock does not exist"
    if lock_bytes is not None:
        try:
            lock_text = lock_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LockError(f"{lock_path}: not valid UTF-8 (byte {exc.start})") from exc
        existing = loads(lock_text, filename=str(lock_path))
        reason = satisfies(existing, project)
        enforce = check_indexes if check_indexes is not None else (
            project_indexes and bool(project.indexes))
        if reason is None and enforce:
            effective = project_settings(project, settings) if project_indexes else settings
            reason = _index_reason(existing, effective)
        if reason is None:
            verified = {"pyproject.toml": pyproject_bytes, "uv.lock": lock_bytes}
            for rel, member in project.members():
                verified[f"{rel}/pyproject.toml"] = member.path.read_bytes()
            record_current(root, verified, state_dir, index_key)
            if not fresh_wanted:
                return LockOutcome(False, None, lock_path, packages=len(existing.packages))
        else:
            forget(root, state_dir, index_key)
    if mode != "write":
        if lock_bytes is None:
            raise LockError(f"{lock_path}: not found", hint="run `ghostenv lock` to create it")
        strict = settings.refresh and _unsupported(project, pyproject_text) is None
        if reason is None and strict and existing is not None:
            # uv's strict check (`uv lock --check --refresh`): re-resolve, compare as data
            effective = project_settings(project, settings) if project_indexes else settings
            fresh = _resolve_lock(project, effective, _seed(existing, False), say)
            if canonicalize(existing) != _keep_recorded_metadata(fresh, existing):
                reason = "re-resolving gives a different lock (versions, files or forks)"
        if reason is not None:
            raise LockError(f"{lock_path} needs to be updated: {reason}",
                            hint="run `ghostenv lock` to update it")
        return LockOutcome(False, None, lock_path,
                           packages=len(existing.packages) if existing else None)

    missing = _unsupported(project, pyproject_text)
    if missing is not None:
        raise LockError(f"{root / 'pyproject.toml'}: ghostenv lock does not handle {missing} yet",
                        hint="use `uv lock` for this project; ghostenv reads and syncs its lock")
    if project_indexes:
        settings = project_settings(project, settings)
    new = _resolve_lock(project, settings, _seed(existing, upgrade), say)
    if existing is not None and reason is None:
        new = _keep_recorded_metadata(new, existing)

    from ghostenv.lock.write import dumps, write_atomic

    if existing is not None and canonicalize(existing) == new:
        # equal as data: keep the file byte for byte (uv leaves such a lock alone too)
        assert lock_bytes is not None
        record_current(root, {"pyproject.toml": pyproject_bytes, "uv.lock": lock_bytes}, state_dir,
                       index_key)
        return LockOutcome(False, reason, lock_path, packages=len(new.packages))
    text = dumps(new)
    write_atomic(lock_path, text)
    record_current(root, {"pyproject.toml": pyproject_bytes, "uv.lock": text.encode("utf-8")},
                   state_dir, index_key)
    return LockOutcome(True, reason, lock_path, packages=len(new.packages))


def _keep_recorded_metadata(new: Lock, existing: Lock) -> Lock:
    """Keep the root's ``[package.metadata]`` as the old lock spells it when it still holds.

    Only called when ``satisfies`` said yes: the recorded requirements mean
    what the project declares, so uv's spelling of their markers is kept and
    ``--refresh``/``--upgrade`` on a uv-written lock does not churn that table.
    """
    old = {(p.name, p.source): p.metadata for p in existing.packages if p.metadata is not None}
    packages = tuple(
        replace(p, metadata=old.get((p.name, p.source), p.metadata))
        if p.metadata is not None
        else p
        for p in new.packages
    )
    return replace(new, packages=packages)


def _lazy_sdist_metadata(
    settings: IndexSettings, requires_python: SpecifierSet, say: Callable[[str], None]
) -> Callable[[DistFile], bytes]:
    """IndexSource's ``sdist_metadata``: a PEP 517 build (H5), set up on first use only.

    Needed when an sdist's PKG-INFO cannot be trusted (Metadata-Version < 2.2 or
    dynamic requirements: odfpy for pandas[excel]). Most locks never build, so
    they never pay for finding an interpreter. Any interpreter the project's
    requires-python admits is preferred; metadata rarely depends on it.
    """
    built: list[Callable[[DistFile], bytes]] = []

    def build(file: DistFile) -> bytes:
        if not built:
            from ghostenv.build import sdist_metadata_builder
            from ghostenv.discover.search import find_interpreter
            from ghostenv.errors import InterpreterError
            from ghostenv.paths import user_cache_dir
            from ghostenv.store.cas import Store

            cache = settings.cache_dir or user_cache_dir()
            try:
                interpreter = find_interpreter(str(requires_python) or None, cache)
            except InterpreterError:
                interpreter = find_interpreter(None, cache)
            built.append(sdist_metadata_builder(interpreter, settings, Store(cache / "store"),
                                                log=say))
        return built[0](file)

    return build


def _resolve_lock(
    project: Project,
    settings: IndexSettings,
    seed: Seed,
    say: Callable[[str], None],
) -> Lock:
    import sys

    from packaging.specifiers import SpecifierSet

    from ghostenv.resolve.index_source import open_source

    requires_python = project.requires_python
    if requires_python is None or not str(requires_python):
        requires_python = SpecifierSet(f">={sys.version_info[0]}.{sys.version_info[1]}")
        say(f"no requires-python in pyproject.toml; locking for {requires_python}")
    configured = {u.rstrip("/"): u for u in (*settings.extra_index_urls, settings.index_url)}

    builder = _lazy_sdist_metadata(settings, requires_python, say)
    with open_source(settings, None, log=say, sdist_metadata=builder) as source:
        # The root's pages are requested first, so their round trips overlap the
        # resolver's and the lock builder's imports (~0.1-0.2 s) instead of following them.
        wanted = [*project.dependencies, *(r for _, reqs in project.optional_dependencies
                                           for r in reqs),
                  *(r for _, reqs in project.groups for r in reqs)]
        from packaging.utils import canonicalize_name

        own = canonicalize_name(project.name)
        source.prefetch(sorted({n for n in (canonicalize_name(r.name) for r in wanted)
                                if n != own}))

        from ghostenv.lock.build import build_lock
        from ghostenv.lock.declared import normalize_marker
        from ghostenv.resolve.python import Options
        from ghostenv.resolve.universal import RootSpec, resolve_universal

        root = RootSpec(
            name=project.name,
            dependencies=project.dependencies,
            optional=dict(project.optional_dependencies),
            groups=dict(project.groups),
        )
        options = Options(preferences=seed.highest())

        def registry(name: str) -> str:
            served = source.page(name).index_url
            url = configured.get(served.rstrip("/"), settings.index_url) if served else (
                settings.index_url)
            return registry_url(url)

        # `[tool.uv] environments` are uv's initial forks (a lock's own forks win)
        forks = seed.forks or tuple(
            m for m in (normalize_marker(e) for e in project.environments) if m)
        resolution = resolve_universal(source, root, requires_python, options,
                                       forks=forks, preferences=seed.preferences)
        return build_lock(project, resolution, source.files, registry)
