"""Isolated build environments, materialized from the store and reused.

A build environment is a venv holding exactly the wheels a backend asked for.
Its key is the interpreter plus the resolved pins (name, version, wheel file),
so the second project using the same backend finds the environment ready and
no wheel is downloaded or linked again. Build requirements are resolved
binary-only: building a backend from source to build a project would recurse,
and every common backend ships a wheel.

Environments live under ``<store>/build-envs-v1/<key>/``; a ``ghostenv-build-env.json``
written last marks one complete, so an interrupted creation is redone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import NetworkError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.index import DistFile
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store, WheelManifest

ENVS = "build-envs-v1"
MARKER = "ghostenv-build-env.json"


@dataclass(frozen=True, slots=True)
class Pin:
    """One resolved build requirement and the wheel chosen for it."""

    name: str
    version: str
    file: DistFile


@dataclass(frozen=True, slots=True)
class BuildEnv:
    """A ready build environment."""

    root: Path
    python: Path
    scripts: Path
    pins: tuple[str, ...]
    reused: bool


def _memo_path(requirements: Sequence[str], interpreter: Interpreter, settings: IndexSettings,
               store: Store) -> Path:
    parts = [interpreter.key, str(interpreter.base_executable), settings.index_url,
             *settings.extra_index_urls, "--", *settings.find_links, "--", *sorted(requirements)]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return store.root / ENVS / "resolved" / f"{key}.json"


def _load_memo(path: Path) -> list[Pin] | None:
    from ghostenv.index import DistFile

    try:
        doc = json.loads(path.read_text("utf-8"))
        return [Pin(p["name"], p["version"],
                    DistFile(filename=p["filename"], url=p["url"], hashes=dict(p["hashes"])))
                for p in doc["pins"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_pins(requirements: Sequence[str], *, interpreter: Interpreter,
                 settings: IndexSettings, store: Store, log: Callable[[str], None]) -> list[Pin]:
    """Resolve build requirements for ``interpreter``, wheels only.

    The last resolution of the same requirements (same interpreter, same
    indexes) is remembered in the store and used when the index cannot be
    asked: ``--offline``, or the index is unreachable. That is what makes a
    build offline possible once its backend was used online, even when the
    backend came from a find-links directory whose index pages were 404s
    (which the HTTP cache does not keep).
    """
    from ghostenv.errors import GhostenvError
    from ghostenv.fsutil import write_atomic
    from ghostenv.resolve.index_source import open_source
    from ghostenv.resolve.python import Options, Target, resolve

    if not requirements:
        return []
    memo = _memo_path(requirements, interpreter, settings, store)
    if settings.offline:
        remembered = _load_memo(memo)
        if remembered is not None:
            log(f"build requirements {', '.join(requirements)}: last resolution (offline)")
            return remembered
    target = Target.for_interpreter(interpreter)
    options = Options(only_binary=frozenset({":all:"}))
    try:
        with open_source(settings, target, log=log) as source:
            pins = resolve(source, list(requirements), target, options)
            out = []
            for name, version in sorted(pins.items()):
                file = source.best_wheel(name, version)
                if file is None:  # pragma: no cover - only_binary guarantees a wheel
                    raise NetworkError(f"{name}=={version}: no wheel for {interpreter.key}")
                out.append(Pin(str(name), str(version), file))
    except NetworkError:
        remembered = _load_memo(memo)
        if remembered is None:
            raise
        log(f"build requirements {', '.join(requirements)}: index unreachable, "
            "using the last resolution")
        return remembered
    except GhostenvError as exc:
        exc.message = f"build requirements {', '.join(requirements)}: {exc.message}"
        raise
    doc = {"requirements": list(requirements),
           "pins": [{"name": p.name, "version": p.version, "filename": p.file.filename,
                     "url": p.file.url, "hashes": dict(p.file.hashes)} for p in out]}
    write_atomic(memo, json.dumps(doc, indent=1).encode())
    return out


def env_key(pins: Sequence[Pin], interpreter: Interpreter) -> str:
    """Digest naming the environment these pins make for this interpreter."""
    lines = [f"{interpreter.key} {interpreter.base_executable}"]
    lines += sorted(f"{p.name}=={p.version} {p.file.sha256 or p.file.filename}" for p in pins)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def _fetch(pin: Pin, store: Store, settings: IndexSettings) -> WheelManifest:
    """The stored manifest of ``pin``'s wheel, downloading it when the store lacks it."""
    from urllib.parse import unquote, urlsplit

    file = pin.file
    if file.sha256:
        cached = store.get_manifest(file.sha256)
        if cached is not None:
            return cached
    if file.url.startswith("file:"):
        path = Path(unquote(urlsplit(file.url).path))
        return store.add_wheel(path, expected_sha256=file.sha256, filename=file.filename)
    if settings.offline:
        raise NetworkError(f"{file.filename} is not in the cache and --offline forbids "
                           "downloading it", hint="run once online to fill the cache")
    from ghostenv.build.download import download

    temp = store.tmp / f"build-dl-{os.getpid()}-{file.filename}"
    try:
        download(file.url, temp, filename=file.filename)
        return store.add_wheel(temp, expected_sha256=file.sha256, filename=file.filename)
    finally:
        temp.unlink(missing_ok=True)


def build_environment(pins: Sequence[Pin], *, interpreter: Interpreter, settings: IndexSettings,
                      store: Store, log: Callable[[str], None]) -> BuildEnv:
    """A venv holding exactly ``pins`` for ``interpreter``: reused when it exists."""
    from concurrent.futures import ThreadPoolExecutor

    from filelock import FileLock

    from ghostenv.materialize.install import compile_bytecode, install_wheel
    from ghostenv.materialize.venv import create_venv, layout_for

    key = env_key(pins, interpreter)
    root = store.root / ENVS / key
    names = tuple(f"{p.name}=={p.version}" for p in pins)
    layout = layout_for(root, interpreter)
    if (root / MARKER).is_file():
        return BuildEnv(root, layout.python, layout.scripts, names, reused=True)
    root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root.parent / f"{key}.lock")):
        if (root / MARKER).is_file():
            return BuildEnv(root, layout.python, layout.scripts, names, reused=True)
        if root.exists():
            shutil.rmtree(root)  # an interrupted creation
        log(f"build environment {key}: {', '.join(names) or '(empty)'}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            manifests = list(pool.map(lambda p: _fetch(p, store, settings), pins))
        layout = create_venv(root, interpreter, prompt="build",
                             command=f"ghostenv build (build environment) {interpreter.path}")
        version_dir = f"python{interpreter.python_version}"
        for manifest in manifests:
            scheme = {"purelib": str(layout.purelib), "platlib": str(layout.platlib),
                      "scripts": str(layout.scripts), "data": str(layout.root),
                      "headers": str(root / "include" / "site" / version_dir / manifest.name)}
            install_wheel(manifest, store, scheme, interpreter=layout.python,
                          supported_tags=None)
        # Compiled once here, since an environment serves many builds and each hook is a new
        # process (and PYTHONDONTWRITEBYTECODE would otherwise leave every import uncompiled).
        compile_bytecode(layout.python, [p for site in {layout.purelib, layout.platlib}
                                         for p in site.rglob("*.py")])
        store.track(root, [m.wheel_sha256 for m in manifests], replace=True)
        doc = {"interpreter": str(interpreter.path), "pins": list(names)}
        (root / MARKER).write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
    return BuildEnv(root, layout.python, layout.scripts, names, reused=False)


__all__ = ["BuildEnv", "Pin", "build_environment", "env_key", "resolve_pins"]
