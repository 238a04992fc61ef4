"""CI cache keys and what a CI cache must keep.

A CI job caches ghostenv's store between runs. The cache is worth restoring
exactly when the wheels it holds are the ones the job needs, which depends on

- what the lock resolves to -- its *content*, not its formatting: the lock is
  parsed, put in canonical order and re-serialized before hashing, so
  whitespace, comments, table style or package order do not change the key;
- which wheels are chosen for the interpreter -- its ABI tag list (Python
  version, implementation, ABI flags, platform, glibc);
- the store's on-disk schema (a new layout cannot reuse an old cache).

Nothing here touches the network. The key reads
``ghostenv-<platform>-<python-abi>-<digest>``; the restore keys drop the digest
(then the ABI), so a job after a lock change starts from the previous store
and downloads only the difference.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import GhostenvError, ProjectError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.model import Lock
    from ghostenv.store import Store
    from ghostenv.store.cas import PruneReport

#: Bump when the meaning of the key changes (not when the store schema does: that is read).
KEY_VERSION = "1"


@dataclass(frozen=True, slots=True)
class CacheKey:
    """The cache key, its restore-key prefixes (most specific first) and what went into it."""

    key: str
    restore_keys: tuple[str, ...]
    lock_digest: str
    abi: str
    platform: str
    schema: str


def store_schema() -> str:
    """The store's layout version, from the directory names the store writes."""
    from ghostenv.store.cas import OBJECTS, WHEELS
    from ghostenv.store.manifest import FORMAT

    return f"{OBJECTS}+{WHEELS}+manifest{FORMAT}"


def read_project_lock(project_dir: Path) -> Lock:
    """The project's uv.lock, parsed (a clear error when there is none)."""
    from ghostenv.lock.read import read_lock

    path = Path(project_dir) / "uv.lock"
    if not path.is_file():
        raise ProjectError(f"{path}: no uv.lock", hint="run `ghostenv lock` first; the cache key "
                           "is derived from the lock")
    return read_lock(path)


def lock_digest(lock: Lock) -> str:
    """sha256 of the lock's resolved content, independent of how the file is formatted."""
    from ghostenv.lock.canonical import canonicalize
    from ghostenv.lock.write import dumps

    return hashlib.sha256(dumps(canonicalize(lock)).encode("utf-8")).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "_", text)


def cache_key(lock: Lock, interpreter: Interpreter) -> CacheKey:
    """The cache key for a store serving ``lock`` on ``interpreter``."""
    tags = interpreter.tag_strings()
    first = tags[0].split("-") if tags else ["py3", "none", "any"]
    abi = f"{first[0]}-{first[1]}"
    platform = _slug(interpreter.platform)
    schema = store_schema()
    lock_sha = lock_digest(lock)
    digest = hashlib.sha256()
    for part in (KEY_VERSION, schema, lock_sha, "\n".join(tags)):
        digest.update(part.encode() + b"\0")
    prefix_platform = f"ghostenv-{platform}-"
    prefix_abi = f"{prefix_platform}{abi}-"
    return CacheKey(
        key=f"{prefix_abi}{digest.hexdigest()[:32]}",
        restore_keys=(prefix_abi, prefix_platform),
        lock_digest=lock_sha,
        abi=abi,
        platform=platform,
        schema=schema,
    )


def built_wheel_digests(store: Store) -> set[str]:
    """sha256 of every wheel ghostenv built from an sdist (kept in ``<store>/built-v1``)."""
    from ghostenv.store.cas import file_sha256

    built = store.root / "built-v1"
    found: set[str] = set()
    if not built.is_dir():
        return found
    for wheel in built.rglob("*.whl"):
        found.add(file_sha256(wheel))
    return found


def lock_wheel_digests(lock: Lock, interpreter: Interpreter) -> set[str]:
    """sha256 of each wheel the lock selects for ``interpreter`` (every group and extra)."""
    from ghostenv.lock.export import ExportOptions, select_packages

    tags = interpreter.tag_strings()
    rank = {tag: i for i, tag in enumerate(tags)}
    options = ExportOptions(all_extras=True, all_groups=True)
    found: set[str] = set()
    for package in select_packages(lock, options, interpreter.markers):
        best: tuple[int, str] | None = None
        for wheel in package.wheels:
            if not (wheel.hash or "").startswith("sha256:"):
                continue
            wheel_tags = _wheel_tags(wheel.name or "")
            score = min((rank[t] for t in wheel_tags if t in rank), default=None)
            if score is not None and (best is None or score < best[0]):
                best = (score, (wheel.hash or "")[7:].lower())
        if best is not None:
            found.add(best[1])
    return found


def _wheel_tags(filename: str) -> list[str]:
    """The expanded tags of a wheel file name (``py2.py3-none-any`` is two tags)."""
    parts = filename[: -len(".whl")].split("-") if filename.endswith(".whl") else []
    if len(parts) < 5:
        return []
    pythons, abis, platforms = parts[-3], parts[-2], parts[-1]
    return [f"{p}-{a}-{pl}" for p in pythons.split(".") for a in abis.split(".")
            for pl in platforms.split(".")]


def ci_keep(project_dir: Path, store: Store, interpreter: Interpreter) -> set[str]:
    """Wheel digests ``ghostenv cache prune --ci`` must keep: the lock's, and built ones."""
    lock = read_project_lock(project_dir)
    return lock_wheel_digests(lock, interpreter) | built_wheel_digests(store)


def prune_for_ci(store: Store, project_dir: Path, python: str | None,
                 cache_dir: Path) -> PruneReport:
    """``ghostenv cache prune --ci``: prune ``store`` down to what a CI cache should carry.

    ``python`` is an interpreter request (default: the project's requires-python,
    as ``ghostenv sync`` picks it). Live environments keep their wheels too.
    """
    from ghostenv.discover import find_interpreter

    request = python
    if request is None:
        from ghostenv.project.read import read_project

        with contextlib.suppress(GhostenvError):
            requires = read_project(project_dir).requires_python
            request = None if requires is None else str(requires)
    interpreter = find_interpreter(request, cache_dir)
    return store.prune(keep=ci_keep(project_dir, store, interpreter))
