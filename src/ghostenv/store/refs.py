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
import tempfile
from collections.abc import Iterable, Iterator
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


def track(root: Path, env: Path, wheels: Iterable[str], *, replace: bool = False) -> EnvRecord:
    """Record that ``env`` uses ``wheels`` (added to what it used, or replacing it)."""
    from filelock import FileLock

    env = Path(os.path.abspath(env))
    path = _record_path(root, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_suffix(".lock"))):
        current: set[str] = set()
        if not replace:
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
                current = set(json.loads(path.read_text("utf-8"))["wheels"])
        record = EnvRecord(env, frozenset(current | set(wheels)))
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"path": str(env), "wheels": sorted(record.wheels)}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    return record


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
