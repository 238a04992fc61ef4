"""Which environments use which stored wheels, so ``cache prune`` knows what is garbage.

Each environment gets one small JSON file under ``envs-v1/``, named by a hash
of its absolute path and holding that path and the wheel digests installed
into it. An environment whose directory is gone is dead; the wheels only dead
environments used, and the objects only those wheels used, can be removed.
Records are replaced atomically, so a crash leaves the old or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

ENVS = "envs-v1"


def path_key(env: str | os.PathLike[str]) -> str:
    """A file-name-safe key for an environment's absolute path: the path itself, escaped.

    Readable, and no ``hashlib`` on the install path; only paths too long for a
    file name fall back to a digest.
    """
    absolute = os.path.abspath(env)
    name = absolute.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if len(name) > 200:
        import hashlib

        name = hashlib.sha256(os.fsencode(absolute)).hexdigest()[:32]
    return name


@record()
class EnvRecord:
    """One tracked environment and the wheels (by sha256) it was built from."""

    path: Path
    wheels: frozenset[str]

    @property
    def alive(self) -> bool:
        """The environment still exists on disk."""
        return (self.path / "pyvenv.cfg").exists() or self.path.is_dir()


def _record_path(root: Path, env: Path) -> Path:
    return root / ENVS / f"{path_key(env)}.json"


def _old_record_path(root: Path, env: Path) -> Path:
    """Where records were kept before they were named by :func:`path_key` (a digest)."""
    import hashlib

    return root / ENVS / f"{hashlib.sha256(os.fsencode(env)).hexdigest()[:32]}.json"


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
        old = None
        if not replace:
            with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
                if not path.exists():
                    old = _old_record_path(root, env)
                doc = json.loads((old or path).read_text("utf-8"))
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
        if old is not None:
            old.unlink(missing_ok=True)
    finally:
        os.close(lock_fd)  # closing releases the lock
    return record


def installed_wheels(root: Path, env: Path) -> dict[str, str]:
    """Normalized name -> sha256 of the wheel ghostenv last installed it from, in ``env``."""
    env = Path(os.path.abspath(env))
    for path in (_record_path(root, env), None):
        try:
            with open(path or _old_record_path(root, env), encoding="utf-8") as handle:
                doc = json.load(handle)
            return dict(doc.get("installed") or {})
        except FileNotFoundError:
            continue
        except (OSError, ValueError, TypeError, AttributeError):
            return {}
    return {}


def environments(root: Path) -> Iterator[EnvRecord]:
    """Every readable environment record, one per environment.

    An environment tracked both before and after records were named by
    :func:`path_key` has two files; their wheels are merged.
    """
    directory = root / ENVS
    if not directory.is_dir():
        return
    found: dict[str, set[str]] = {}
    for path in sorted(directory.glob("*.json")):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            doc = json.loads(path.read_text("utf-8"))
            found.setdefault(str(doc["path"]), set()).update(doc["wheels"])
    for env, wheels in found.items():
        yield EnvRecord(Path(env), frozenset(wheels))


def forget(root: Path, env: Path) -> None:
    """Drop the record of ``env`` (it was deleted on purpose)."""
    env = Path(os.path.abspath(env))
    _record_path(root, env).unlink(missing_ok=True)
    _old_record_path(root, env).unlink(missing_ok=True)
