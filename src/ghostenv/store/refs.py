"""Which environments use which stored wheels, so ``cache prune`` knows what is garbage.

Each environment gets one small JSON file under ``envs-v1/``, named by a hash
of its absolute path and holding that path and the wheel digests installed
into it. An environment whose directory is gone is dead; the wheels only dead
environments used, and the objects only those wheels used, can be removed.
Records are replaced atomically, so a crash leaves the old or the new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ENVS = "envs-v1"


@dataclass(frozen=True, slots=True)
class EnvRecord:
    """One tracked environment and the wheels (by sha256) it was built from."""

    path: Path
    wheels: frozenset[str]

    @property
    def alive(self) -> bool:
        """The environment still exists on disk."""
        return (self.path / "pyvenv.cfg").exists() or self.path.is_dir()


def _record_path(root: Path, env: Path) -> Path:
    key = hashlib.sha256(os.fsencode(env)).hexdigest()[:32]
    return root / ENVS / f"{key}.json"


def track(root: Path, env: Path, wheels: Iterable[str], *, replace: bool = False,
          installed: Mapping[str, str] | None = None) -> EnvRecord:
    """Record that ``env`` uses ``wheels`` (added to what it used, or replacing it).

    ``installed`` (normalized name -> wheel sha256) is kept beside, so the next
    install plan can tell "same version, different wheel" apart. No fsync: the
    record is a hint for ``prune``; losing the newest one in a crash only
    means a prune may remove wheels an environment was linked from, which the
    environment does not need (its files are links of their own).
    """
    import fcntl

    env = Path(os.path.abspath(env))
    path = _record_path(root, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        current: set[str] = set()
        names: dict[str, str] = {}
        if not replace:
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
                doc = json.loads(path.read_text("utf-8"))
                current = set(doc["wheels"])
                names = dict(doc.get("installed") or {})
        if installed is not None:
            names.update(installed)
        record = EnvRecord(env, frozenset(current | set(wheels)))
        name = str(path.parent / f".tmp-{os.getpid()}-{path.name}")
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"path": str(env), "wheels": sorted(record.wheels),
                       "installed": dict(sorted(names.items()))}, handle)
        os.replace(name, path)
    finally:
        os.close(lock_fd)  # closing releases the lock
    return record


def installed_wheels(root: Path, env: Path) -> dict[str, str]:
    """Normalized name -> sha256 of the wheel ghostenv last installed it from, in ``env``."""
    path = _record_path(root, Path(os.path.abspath(env)))
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
        return dict(doc.get("installed") or {})
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


def environments(root: Path) -> Iterator[EnvRecord]:
    """Every readable environment record."""
    directory = root / ENVS
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, KeyError):
            doc = json.loads(path.read_text("utf-8"))
            yield EnvRecord(Path(doc["path"]), frozenset(doc["wheels"]))


def forget(root: Path, env: Path) -> None:
    """Drop the record of ``env`` (it was deleted on purpose)."""
    _record_path(root, Path(os.path.abspath(env))).unlink(missing_ok=True)
