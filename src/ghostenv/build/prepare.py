"""``prepare_metadata`` and ``build_sdist``: the other PEP 517 products, same caches.

Both share :mod:`ghostenv.build.wheel`'s machinery: the source hash as the key
(``<store>/built-v1/<hash>/metadata/METADATA`` and ``.../sdist/*.tar.gz``), the
cached build environments, and one :class:`~ghostenv.errors.BuildError` per
backend failure.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.build.wheel import (
    ConfigSettings,
    _backend,
    _build_into,
    _cache_dir,
    _cached_wheel,
    _identify,
    _quiet,
)
from ghostenv.errors import BuildError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store


def wheel_metadata(wheel: Path) -> bytes | None:
    """The wheel's top-level ``.dist-info/METADATA``, or None when it has none.

    Shared by the metadata hook's fallback here and by ``install`` for local
    wheels; each caller raises its own error for a wheel without one (a failed
    build here, a bad wheel there).
    """
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist()
                 if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
        return zf.read(names[0]) if names else None


def _metadata_from_wheel(wheel: Path) -> bytes:
    data = wheel_metadata(wheel)
    if data is None:
        raise BuildError(f"{wheel.name}: the built wheel has no .dist-info/METADATA")
    return data


def prepare_metadata(source: Path, *, interpreter: Interpreter, settings: IndexSettings,
                     store: Store, log: Callable[[str], None] | None = None,
                     config_settings: ConfigSettings | None = None) -> bytes:
    """Core metadata (METADATA bytes) of ``source`` as its backend would build it.

    Uses ``prepare_metadata_for_build_wheel``; a backend without it builds the
    wheel (``pyproject_hooks`` does the fallback) and its METADATA is read.
    Cached by source hash; a wheel already built from the source answers too.
    """
    from filelock import FileLock

    from ghostenv.build.hooks import MissingHook, call_hook
    from ghostenv.fsutil import write_atomic

    log = log or _quiet
    src = _identify(Path(source), False, config_settings)
    cached = _cache_dir(store, src.digest, "metadata") / "METADATA"
    if cached.is_file():
        return cached.read_bytes()
    wheel = _cached_wheel(_cache_dir(store, src.digest, "wheel"), interpreter)
    if wheel is not None:
        data = _metadata_from_wheel(wheel)
        write_atomic(cached, data)
        return data
    cached.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cached.parent / ".lock")):
        if cached.is_file():
            return cached.read_bytes()
        with _backend(src, hook_kind="wheel", interpreter=interpreter, settings=settings,
                      store=store, log=log) as backend:
            caller, runner, package, name_of_backend, work = backend
            out = work / "metadata"
            out.mkdir()
            try:
                name = call_hook(package, name_of_backend, "prepare_metadata_for_build_wheel",
                                 runner, lambda: caller.prepare_metadata_for_build_wheel(
                                     str(out), src.config, _allow_fallback=False),
                                 missing_ok=True)
            except MissingHook:
                # No metadata hook: build the wheel, and keep it -- installing the package
                # (the usual next step after resolving it) then needs no build at all.
                log(f"{package}: no prepare_metadata_for_build_wheel, building the wheel")
                wheel = _build_into(_cache_dir(store, src.digest, "wheel"), backend,
                                    editable=False, log=log, config=src.config)
                data = _metadata_from_wheel(wheel)
            else:
                path = out / str(name) / "METADATA"
                if not path.is_file():
                    raise BuildError(f"{package}: build backend `{name_of_backend}` wrote no "
                                     f"METADATA in {name}")
                data = path.read_bytes()
        write_atomic(cached, data)
        log(f"{package}: metadata prepared")
        return data


def build_sdist(source: Path, *, interpreter: Interpreter, settings: IndexSettings,
                store: Store, log: Callable[[str], None] | None = None,
                config_settings: ConfigSettings | None = None) -> Path:
    """Build (or find in the cache) an sdist of the project directory ``source``.

    Cached by the tree hash like wheels; the returned path is in the store's
    build cache (copy it).
    """
    from filelock import FileLock

    from ghostenv.build.hooks import call_hook

    log = log or _quiet
    src = _identify(Path(source), False, config_settings)
    if src.is_sdist:
        raise BuildError(f"{src.path.name}: already an sdist",
                         hint="pass the project directory to build an sdist")
    folder = _cache_dir(store, src.digest, "sdist")
    found = sorted(folder.glob("*.tar.gz")) if folder.is_dir() else []
    if found:
        log(f"{src.path.name}: cached sdist {found[0].name}")
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        found = sorted(folder.glob("*.tar.gz"))
        if found:
            return found[0]
        with _backend(src, hook_kind="sdist", interpreter=interpreter, settings=settings,
                      store=store, log=log) as (caller, runner, package, backend, work):
            out = work / "out-sdist"
            out.mkdir()
            name = call_hook(package, backend, "build_sdist", runner,
                             lambda: caller.build_sdist(str(out), src.config))
            built = out / str(name)
            if not built.is_file() or not built.name.endswith(".tar.gz"):
                raise BuildError(f"{package}: build backend `{backend}` reported {name!r}, "
                                 "which is not a .tar.gz it wrote")
            final = folder / built.name
            os.replace(built, final)
            log(f"{package}: built {final.name}")
            return final


__all__ = ["build_sdist", "prepare_metadata"]
