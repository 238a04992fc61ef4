"""Which environments use which stored wheels, so ``cache prune`` knows what is garbage.

Each environment gets one small JSON file under ``envs-v1/``, named by a hash
of its absolute path and holding that path and the wheel digests installed
into it. An environment whose directory is gone is dead; the wheels only dead
environments used, and the objects only those wheels used, can be removed.
Records are replaced atomically, so a crash leaves the old or the new one.
"""

from __future__ import annotations

import os

from ghostenv._fast import suppress, write_small
from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path
    from typing import Any

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


def _record_path(root: str | os.PathLike[str], env: str) -> str:
    return os.path.join(os.fspath(root), ENVS, f"{path_key(env)}.json")


def _old_record_path(root: str | os.PathLike[str], env: str) -> str:
    """Where records were kept before they were named by :func:`path_key` (a digest)."""
    import hashlib

    digest = hashlib.sha256(os.fsencode(env)).hexdigest()[:32]
    return os.path.join(os.fspath(root), ENVS, f"{digest}.json")


def _read(path: str) -> dict[str, Any]:
    from ghostenv.store import jsonlite

    with open(path, encoding="utf-8") as handle:
        doc = jsonlite.loads(handle.read())
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not an environment record")
    return doc


def track(root: str | os.PathLike[str], env: str | os.PathLike[str], wheels: Iterable[str], *,
          replace: bool = False, installed: Mapping[str, str] | None = None) -> None:
    """Record that ``env`` uses ``wheels`` (added to what it used, or replacing it).

    ``installed`` (normalized name -> wheel sha256) is kept beside, so the next
    install plan can tell "same version, different wheel" apart. No fsync: the
    record is a hint for ``prune``; losing the newest one in a crash only
    means a prune may remove wheels an environment was linked from, which the
    environment does not need (its files are links of their own).
    """
    import fcntl

    env_path = os.path.abspath(env)
    path = _record_path(root, env_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lock_fd = os.open(path[: -len(".json")] + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        current: set[str] = set()
        names: dict[str, str] = {}
        old = None
        if not replace:
            with suppress(FileNotFoundError, ValueError, KeyError, TypeError):
                if not os.path.exists(path):
                    old = _old_record_path(root, env_path)
                doc = _read(old or path)
                current = set(doc["wheels"])
                names = dict(doc.get("installed") or {})
        if installed is not None:
            names.update(installed)
        doc = {"installed": names, "path": env_path, "wheels": sorted(current | set(wheels))}
        text = _dumps_plain(doc)
        if text is None:  # a string to escape: the real encoder
            from ghostenv.store import jsonlite

            text = jsonlite.dumps(doc)
        if old is None and _same_text(path, text):
            return  # a new environment at a path with the same wheels: a file less to make
        write_small(path, text.encode("utf-8"))
        if old is not None:
            with suppress(FileNotFoundError):
                os.unlink(old)
    finally:
        os.close(lock_fd)  # closing releases the lock


def _same_text(path: str, text: str) -> bool:
    """Whether the record at ``path`` already reads ``text`` (a read is cheaper than the
    new file and rename of a rewrite)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        data = os.read(fd, len(text) + 2)
    except OSError:
        return False
    finally:
        os.close(fd)
    return data == text.encode("utf-8")


def _plain(text: object) -> bool:
    """A string JSON writes as is between quotes (printable ASCII, no quote or backslash)."""
    return (isinstance(text, str) and text.isascii() and text.isprintable()
            and '"' not in text and "\\" not in text)


def _dumps_plain(doc: dict[str, Any]) -> str | None:
    """:func:`jsonlite.dumps` of an environment record whose strings need no escaping,
    without the JSON encoder (an extension module to load on every fresh sync); None
    when a string would need one."""
    parts = []
    for key in sorted(doc):
        value = doc[key]
        if isinstance(value, dict):
            if not all(_plain(k) and _plain(v) for k, v in value.items()):
                return None
            body = ",".join(f'"{k}":"{value[k]}"' for k in sorted(value))
            parts.append(f'"{key}":{{{body}}}')
        elif isinstance(value, list):
            if not all(_plain(v) for v in value):
                return None
            parts.append(f'"{key}":[' + ",".join(f'"{v}"' for v in value) + "]")
        elif _plain(value):
            parts.append(f'"{key}":"{value}"')
        else:
            return None
    return "{" + ",".join(parts) + "}"


def installed_wheels(root: str | os.PathLike[str], env: str | os.PathLike[str]) -> dict[str, str]:
    """Normalized name -> sha256 of the wheel ghostenv last installed it from, in ``env``."""
    env_path = os.path.abspath(env)
    for path in (_record_path(root, env_path), None):
        try:
            doc = _read(path or _old_record_path(root, env_path))
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            return {}
        try:
            return dict(doc.get("installed") or {})
        except (TypeError, ValueError):
            return {}
    return {}


def environments(root: str | os.PathLike[str]) -> Iterator[EnvRecord]:
    """Every readable environment record, one per environment.

    An environment tracked both before and after records were named by
    :func:`path_key` has two files; their wheels are merged.
    """
    from pathlib import Path

    directory = Path(root) / ENVS
    if not directory.is_dir():
        return
    found: dict[str, set[str]] = {}
    for path in sorted(directory.glob("*.json")):
        with suppress(OSError, ValueError, KeyError, TypeError):
            doc = _read(str(path))
            found.setdefault(str(doc["path"]), set()).update(doc["wheels"])
    for env, wheels in found.items():
        yield EnvRecord(Path(env), frozenset(wheels))


def forget(root: str | os.PathLike[str], env: str | os.PathLike[str]) -> None:
    """Drop the record of ``env`` (it was deleted on purpose)."""
    env_path = os.path.abspath(env)
    for path in (_record_path(root, env_path), _old_record_path(root, env_path)):
        with suppress(FileNotFoundError):
            os.unlink(path)
