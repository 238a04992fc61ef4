"""Cached throw-away environments: ``run --with REQ`` layers and PEP 723 script environments.

An ephemeral environment is keyed by what it holds -- the resolved pins (name,
version, wheel digest), the interpreter, and the base environment it is
layered on -- so two requests that resolve alike share one environment, and a
request whose resolution moved on (a new release) gets a new one. It is
materialized from the store like any other (a warm store means linking only)
and marked complete by a file written last, so an interrupted creation is
redone rather than used.

Layering: a ``.pth`` file in the ephemeral environment's site-packages names
the base environment's site-packages, so the ephemeral packages come first on
``sys.path`` and the base ones after; the base environment is never written to
(its gate watches its site-packages).

After building (or finding) an environment, the raw request is recorded with
:func:`ghostenv.workflow.ephemeral_lookup.remember`, so the next identical
request is answered by the stdlib-only lookup without resolving.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError
from ghostenv.workflow.ephemeral_lookup import MARKER, ROOT, remember

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.workflow.plan import Wanted

LAYER_PTH = "_ghostenv_base.pth"


def _cache_dir(settings: IndexSettings) -> Path:
    if settings.cache_dir is not None:
        return Path(settings.cache_dir)
    from ghostenv.paths import user_cache_dir

    return user_cache_dir()


def _base_site_packages(base: Path) -> list[str]:
    """The base environment's site-packages directories (from its own layout)."""
    found = sorted({str(p) for pattern in ("lib/python*/site-packages",
                                           "lib/pypy*/site-packages",
                                           "lib64/python*/site-packages")
                    for p in base.glob(pattern) if p.is_dir()})
    return list(dict.fromkeys(os.path.realpath(p) for p in found))


def resolve_wanted(requirements: Sequence[str], *, interpreter: Interpreter,
                   settings: IndexSettings,
                   log: Callable[[str], None] = lambda _t: None) -> list[Wanted]:
    """Resolve ``requirements`` for ``interpreter`` and pick each pin's wheel."""
    from packaging.requirements import InvalidRequirement, Requirement

    from ghostenv.errors import BuildError
    from ghostenv.resolve.index_source import IndexSource
    from ghostenv.resolve.python import Options, Target, resolve
    from ghostenv.workflow.plan import Wanted

    try:
        roots = [Requirement(r) for r in requirements]
    except InvalidRequirement as exc:
        raise UsageError(f"invalid requirement: {exc}") from None
    direct = {r.name.lower().replace("_", "-").replace(".", "-") for r in roots}
    target = Target.for_interpreter(interpreter)
    out: list[Wanted] = []
    with IndexSource(settings, target, log=log) as index:
        pins = resolve(index, roots, target, Options())
        for name, version in sorted(pins.items()):
            file = index.best_wheel(name, version)
            if file is not None:
                out.append(Wanted(str(name), str(version), file.filename, url=file.url,
                                  sha256=file.hashes.get("sha256"), requested=name in direct))
                continue
            sdist = next((f for f in index.files(name, version) if not f.is_wheel), None)
            if sdist is None:
                raise BuildError(f"{name}=={version}: no wheel for {interpreter.key} and no sdist")
            from ghostenv.build import build_wheel, fetch_sdist
            from ghostenv.store import Store

            store = Store(_cache_dir(settings) / "store")
            wheel = build_wheel(fetch_sdist(sdist, store, settings), interpreter=interpreter,
                                settings=settings, store=store, log=log)
            out.append(Wanted(str(name), str(version), wheel.name, path=wheel,
                              requested=name in direct))
    return out


def _memo_path(requirements: Sequence[str], interpreter: Interpreter,
               settings: IndexSettings, cache_dir: Path) -> Path:
    parts = [interpreter.key, str(interpreter.base_executable), settings.index_url,
             *settings.extra_index_urls, "--", *settings.find_links, "--",
             *sorted(r.strip() for r in requirements)]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    return cache_dir / ROOT / "resolved" / f"{key}.json"


def resolve_remembered(requirements: Sequence[str], *, interpreter: Interpreter,
                       settings: IndexSettings, cache_dir: Path,
                       log: Callable[[str], None] = lambda _t: None) -> list[Wanted]:
    """:func:`resolve_wanted`, answered from the last resolution of the same request when fresh.

    The same ``--with`` requirements for the same interpreter and indexes
    resolve alike for the lookup's time-to-live (a day by default), whichever
    project they are layered on; reusing the answer skips the index client
    (and its imports) entirely, which is most of a first ``run --with`` in a
    new project. ``--refresh`` (``settings.refresh``) always resolves again.
    """
    import time

    from ghostenv.workflow.ephemeral_lookup import _ttl
    from ghostenv.workflow.plan import Wanted

    memo = _memo_path(requirements, interpreter, settings, cache_dir)
    if not settings.refresh:
        try:
            doc = json.loads(memo.read_text("utf-8"))
            if time.time() - float(doc["created"]) <= _ttl() or settings.offline:
                log(f"resolution of {' '.join(requirements)} remembered from {memo.name}")
                remembered = [Wanted(w["name"], w["version"], w["filename"], url=w["url"],
                                     path=Path(w["path"]) if w.get("path") else None,
                                     sha256=w["sha256"], requested=bool(w["requested"]))
                              for w in doc["wanted"]]
                if all(w.path is None or w.path.is_file() for w in remembered):
                    return remembered  # (a built wheel could have been pruned meanwhile)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    wanted = resolve_wanted(requirements, interpreter=interpreter, settings=settings, log=log)
    from ghostenv.fsutil import write_atomic

    doc = {"created": time.time(), "requirements": list(requirements),
           "wanted": [{"name": w.name, "version": w.version, "filename": w.filename,
                       "url": w.url, "path": str(w.path) if w.path else None,
                       "sha256": w.sha256, "requested": w.requested}
                      for w in wanted]}
    with contextlib.suppress(OSError):  # only speed is lost
        write_atomic(memo, json.dumps(doc).encode())
    return wanted


def environment_key(wanted: Sequence[Wanted], interpreter: Interpreter,
                    base: Path | None) -> str:
    """Digest of what the environment holds: pins with their wheels, interpreter, base."""
    lines = [interpreter.key, str(interpreter.base_executable),
             os.path.abspath(base) if base is not None else ""]
    lines += sorted(f"{w.name.lower()}=={w.version} {w.sha256 or w.filename}" for w in wanted)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


def materialize(wanted: Sequence[Wanted], *, interpreter: Interpreter, base: Path | None,
                cache_dir: Path, offline: bool = False,
                log: Callable[[str], None] = lambda _t: None) -> Path:
    """The environment holding exactly ``wanted`` (+ base layer): found, or built from the store."""
    from ghostenv.store import Store

    key = environment_key(wanted, interpreter, base)
    root = Path(cache_dir) / ROOT / "envs" / key
    if (root / MARKER).is_file():
        return root
    from ghostenv.materialize.venv import create_venv
    from ghostenv.workflow.plan import install_wanted

    root.parent.mkdir(parents=True, exist_ok=True)
    store = Store(Path(cache_dir) / "store")
    with store.lock_environment(root):
        if (root / MARKER).is_file():
            return root
        layout = create_venv(root, interpreter, clear=root.exists(), prompt="ephemeral",
                             command=f"ghostenv run --with ({interpreter.path})")
        _plan, report = install_wanted(wanted, layout, store, exact=True, offline=offline,
                                       progress=log)
        log(f"ephemeral {key}: {len(report.installed)} packages in {report.install_ms:.0f}ms")
        if base is not None:
            lines = _base_site_packages(Path(base))
            (layout.purelib / LAYER_PTH).write_text("".join(f"{p}\n" for p in lines), "utf-8")
        doc = {"interpreter": str(interpreter.path), "base": str(base) if base else None,
               "packages": [f"{w.name}=={w.version}" for w in wanted]}
        (root / MARKER).write_text(json.dumps(doc, indent=1) + "\n", "utf-8")
    return root


def ephemeral_environment(requirements: Sequence[str], *, interpreter: Interpreter,
                          base: Path | None, settings: IndexSettings,
                          python_request: str | None = None,
                          log: Callable[[str], None] = lambda _t: None) -> Path:
    """A cached environment with ``requirements`` for ``interpreter``, layered on ``base``.

    ``python_request`` is the raw ``--python`` value (or None): with the raw
    requirement strings it forms the lookup entry the stdlib fast path reads.
    """
    if base is not None and not (Path(base) / "pyvenv.cfg").is_file():
        raise UsageError(f"{base} is not a virtual environment to layer on")
    cache_dir = _cache_dir(settings)
    wanted = resolve_remembered(requirements, interpreter=interpreter, settings=settings,
                                cache_dir=cache_dir, log=log)
    env = materialize(wanted, interpreter=interpreter, base=base, cache_dir=cache_dir,
                      offline=settings.offline, log=log)
    remember(requirements, python=python_request, base=base, cache_dir=cache_dir, env=env,
             interpreter=interpreter.path)
    return env


def prune_ephemeral(cache_dir: Path, *, max_age: float | None = None) -> list[Path]:
    """Remove ephemeral environments nothing has asked for within ``max_age`` seconds.

    An environment is kept while a lookup entry younger than ``max_age`` (default:
    the lookup's time-to-live) names it, or while it is itself that young; a
    still-used environment is named again by its next request once its entry
    expired, so only abandoned ones go. Their wheels then become garbage for
    the store's own prune. Returns the removed directories.
    """
    import shutil
    import time

    from ghostenv.workflow.ephemeral_lookup import _ttl

    age = _ttl() if max_age is None else max_age
    now = time.time()
    root = Path(cache_dir) / ROOT
    named: set[str] = set()
    lookups = root / "lookup"
    if lookups.is_dir():
        for entry in lookups.glob("*.txt"):
            try:
                fields = dict(line.rstrip("\n").split("\t", 1)
                              for line in entry.read_text("utf-8").splitlines(keepends=True)
                              if "\t" in line)
                if now - float(fields["created"]) <= age:
                    named.add(os.path.realpath(fields["env"]))
                else:
                    entry.unlink(missing_ok=True)
            except (OSError, ValueError, KeyError):
                continue
    removed: list[Path] = []
    envs = root / "envs"
    if not envs.is_dir():
        return removed
    for env in envs.iterdir():
        if not env.is_dir() or os.path.realpath(env) in named:
            continue
        try:
            if now - (env / MARKER).stat().st_mtime <= age:
                continue
        except FileNotFoundError:
            if now - env.stat().st_mtime <= age:  # being created right now
                continue
        shutil.rmtree(env, ignore_errors=True)
        removed.append(env)
    return removed
