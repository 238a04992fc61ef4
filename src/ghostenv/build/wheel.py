"""``build_wheel`` and ``prepare_metadata``: PEP 517/660 builds, cached by source hash.

Flow for a source (project directory or sdist):

1. hash it (:mod:`ghostenv.build.source`); a wheel already built from that
   hash, with a tag the interpreter accepts, is returned at once -- no
   resolution, no subprocess;
2. otherwise resolve ``[build-system] requires`` for the interpreter and get a
   (cached) build environment (:mod:`ghostenv.build.env`), ask the backend for
   its extra requirements (``get_requires_for_build_wheel``/``_editable``) and
   switch to the environment holding those too when there are any;
3. call ``build_wheel``/``build_editable`` and move the wheel into
   ``<store>/built-v1/<hash>/<kind>/``.

Editable wheels point at the source directory: their key is its absolute path,
its configuration files and its top-level names, not its contents (editing a
module needs no rebuild; see :func:`ghostenv.build.source.editable_hash`).
Metadata (``prepare_metadata_for_build_wheel``, or the METADATA of a wheel when
the backend lacks the hook) is cached beside the wheels.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import BuildError

if TYPE_CHECKING:
    from pyproject_hooks import BuildBackendHookCaller

    from ghostenv.build.hooks import Runner
    from ghostenv.build.source import BuildSystem
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store

BUILT = "built-v1"


def _quiet(_text: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class _Source:
    """A source resolved to its cache key."""

    path: Path
    is_sdist: bool
    digest: str
    config: ConfigSettings | None = None


#: PEP 517 ``config_settings``: what ``-C key=value`` passes to the backend.
ConfigSettings = Mapping[str, "str | list[str]"]


def _identify(source: Path, editable: bool, config: ConfigSettings | None = None) -> _Source:
    """Hash ``source`` (see :mod:`ghostenv.build.source`); config settings are part of the key."""
    src = _identify_source(source, editable)
    if not config:
        return src
    extra = json.dumps(dict(config), sort_keys=True)
    digest = hashlib.sha256(f"{src.digest}\0{extra}".encode()).hexdigest()
    return _Source(src.path, src.is_sdist, digest, dict(config))


def _identify_source(source: Path, editable: bool) -> _Source:
    from ghostenv.build.source import editable_hash, tree_hash
    from ghostenv.store.cas import file_sha256

    path = Path(os.path.abspath(source))
    if path.is_file():
        if editable:
            raise BuildError(f"{path.name}: an editable build needs a project directory, "
                             "not an sdist", hint="pass the project directory")
        return _Source(path, True, file_sha256(path))
    if not path.is_dir():
        raise BuildError(f"{path}: no such project directory or sdist")
    return _Source(path, False, editable_hash(path) if editable else tree_hash(path))


def _cache_dir(store: Store, digest: str, kind: str) -> Path:
    return store.root / BUILT / digest[:2] / digest / kind


def _cached_wheel(folder: Path, interpreter: Interpreter) -> Path | None:
    """A wheel in ``folder`` whose tags the interpreter accepts."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if not folder.is_dir():
        return None
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        return None
    major, minor = interpreter.version[:2]
    pure = {f"py{major}", f"py{major}{minor}"}
    supported: set[object] | None = None
    for wheel in wheels:
        try:
            tags = parse_wheel_filename(wheel.name)[3]
        except InvalidWheelFilename:
            continue
        # The common case, a pure wheel, without computing every tag (~20 ms).
        if any(t.abi == "none" and t.platform == "any" and t.interpreter in pure for t in tags):
            return wheel
        if supported is None:
            supported = set(interpreter.tags())
        if tags & supported:
            return wheel
    return None


def _requires_memo(store: Store, env: str, system: BuildSystem, hook: str, project: Path, *,
                   config: ConfigSettings | None) -> Path:
    """Where the answer of ``hook`` for this backend, environment and configuration is kept.

    Remembering it saves one backend process per build (setuptools: ~0.3 s);
    the key covers the configuration files, so a changed ``setup_requires``
    or hatch plugin asks the backend again.
    """
    settings = json.dumps(dict(config or {}), sort_keys=True)
    digest = hashlib.sha256(
        f"{env}\0{system.backend}\0{system.backend_path}\0{hook}\0{settings}".encode())
    from ghostenv.build.source import CONFIG_FILES

    for name in CONFIG_FILES:
        try:
            data = (project / name).read_bytes()
        except OSError:
            data = b"\0missing"
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    key = digest.hexdigest()
    return store.root / BUILT / "requires" / key[:2] / f"{key}.json"


def _read_requires(path: Path) -> list[str] | None:
    try:
        value = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


#: (hook caller, runner, package label, backend name, temporary work directory)
_Backend = tuple["BuildBackendHookCaller", "Runner", str, str, Path]


@contextlib.contextmanager
def _backend(src: _Source, *, hook_kind: str, interpreter: Interpreter, settings: IndexSettings,
             store: Store, log: Callable[[str], None]) -> Iterator[_Backend]:
    """Unpack (sdists), read [build-system], prepare the environment, yield the hook caller.

    Yields ``(caller, runner, package, backend, workdir)``; ``workdir`` is a
    temporary directory (removed afterwards) on the store's file system.
    """
    from pyproject_hooks import BuildBackendHookCaller

    from ghostenv.build.env import build_environment, resolve_pins
    from ghostenv.build.extract import extract_sdist
    from ghostenv.build.hooks import Runner, call_hook
    from ghostenv.build.source import read_build_system
    from ghostenv.fsutil import write_atomic

    store.tmp.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=store.tmp))
    try:
        project = extract_sdist(src.path, work / "src") if src.is_sdist else src.path
        try:
            system = read_build_system(project)
        except BuildError as exc:
            if src.is_sdist:  # name the archive, not the temporary directory
                exc.message = exc.message.replace(str(project), src.path.name)
            raise
        package = src.path.name if src.is_sdist else system.name
        pins = resolve_pins(system.requires, interpreter=interpreter, settings=settings,
                            store=store, log=log)
        env = build_environment(pins, interpreter=interpreter, settings=settings, store=store,
                                log=log)
        log(f"{package}: backend {system.backend} in {env.root}"
            + (" (reused)" if env.reused else ""))
        runner = Runner(env.root, env.scripts, log)

        def caller_for(python: Path) -> BuildBackendHookCaller:
            try:
                return BuildBackendHookCaller(str(project), system.backend,
                                              backend_path=list(system.backend_path) or None,
                                              runner=runner, python_executable=str(python))
            except ValueError as exc:  # a backend-path outside the tree, or absolute
                raise BuildError(f"{package}: [build-system] backend-path "
                                 f"{list(system.backend_path)}: {exc}",
                                 hint="backend-path entries must be relative paths inside "
                                      "the project (PEP 517)") from None

        caller = caller_for(env.python)
        hook = f"get_requires_for_build_{hook_kind}"
        memo = _requires_memo(store, env.root.name, system, hook, project, config=src.config)
        extra = _read_requires(memo)
        if extra is None:
            getter = {"editable": caller.get_requires_for_build_editable,
                      "sdist": caller.get_requires_for_build_sdist}.get(
                          hook_kind, caller.get_requires_for_build_wheel)
            extra = [str(r) for r in call_hook(package, system.backend, hook, runner,
                                               lambda: getter(src.config))]
            write_atomic(memo, json.dumps(extra).encode())
        else:
            log(f"{package}: {hook} -> {extra} (remembered)")
        wanted = {*system.requires}
        if extra and not set(extra) <= wanted:
            log(f"{package}: backend also requires {', '.join(extra)}")
            pins = resolve_pins([*system.requires, *extra], interpreter=interpreter,
                                settings=settings, store=store, log=log)
            env = build_environment(pins, interpreter=interpreter, settings=settings,
                                    store=store, log=log)
            runner = Runner(env.root, env.scripts, log)
            caller = caller_for(env.python)
        yield caller, runner, package, system.backend, work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_wheel(source: Path, *, interpreter: Interpreter, settings: IndexSettings, store: Store,
                editable: bool = False, log: Callable[[str], None] | None = None,
                config_settings: ConfigSettings | None = None) -> Path:
    """Build (or find in the cache) a wheel of ``source`` for ``interpreter``; return its path.

    ``source`` is a project directory or an sdist (.tar.gz/.zip). With
    ``editable`` a PEP 660 wheel is built for the directory. The returned path
    is inside the store's build cache: copy it, do not move it.
    ``config_settings`` go to every hook (and into the cache key).
    """
    from filelock import FileLock

    log = log or _quiet
    kind = "editable" if editable else "wheel"
    src = _identify(Path(source), editable, config_settings)
    folder = _cache_dir(store, src.digest, kind)
    hit = _cached_wheel(folder, interpreter)
    if hit is not None:
        log(f"{src.path.name}: cached {kind} {hit.name}")
        return hit
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        hit = _cached_wheel(folder, interpreter)
        if hit is not None:
            return hit
        with _backend(src, hook_kind=kind, interpreter=interpreter, settings=settings,
                      store=store, log=log) as backend:
            return _build_into(folder, backend, editable=editable, log=log, config=src.config)


def _build_into(folder: Path, backend: _Backend, *, editable: bool,
                log: Callable[[str], None], config: ConfigSettings | None) -> Path:
    """Run build_wheel/build_editable and move the wheel into the cache ``folder``."""
    from ghostenv.build.hooks import call_hook

    caller, runner, package, name_of_backend, work = backend
    out = work / ("out-editable" if editable else "out-wheel")
    out.mkdir()
    if editable:
        name = call_hook(package, name_of_backend, "build_editable", runner,
                         lambda: caller.build_editable(str(out), config))
    else:
        name = call_hook(package, name_of_backend, "build_wheel", runner,
                         lambda: caller.build_wheel(str(out), config))
    built = out / str(name)
    if not built.is_file() or not built.name.endswith(".whl"):
        raise BuildError(f"{package}: build backend `{name_of_backend}` reported {name!r}, "
                         "which is not a wheel it wrote")
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / built.name
    os.replace(built, final)
    log(f"{package}: built {final.name}")
    return final


__all__ = ["ConfigSettings", "build_wheel"]
