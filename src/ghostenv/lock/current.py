"""Is uv.lock already up to date? Answered from a recorded fingerprint, stdlib only.

Checking a lock against its project the honest way (``satisfies``) means
parsing uv.lock with tomllib, which costs 110-220 ms on a 1 MB lock. Most runs
of ``ghostenv lock`` (and of the sync/run gate) ask about a pair of files that
has not changed since the last time the answer was yes, so every verified "yes"
is recorded: the sha256 and ``stat`` of ``pyproject.toml``, ``uv.lock`` and
any workspace member's ``pyproject.toml``. A later question is answered by

1. ``stat`` of each file equal to the recorded one (size, mtime, ctime, inode)
   -> current, with no file read at all;
2. otherwise the sha256 of each file equal to the recorded one -> current
   (a ``touch`` or a checkout that rewrote identical bytes), and the new stat
   is recorded so the next question takes step 1;
3. otherwise: not known to be current; the caller runs the real check.

Where the record lives: in the cache directory
(``<cache>/lock-state/<sha256 of the project path>.json``), not beside the
lock. The record is a pure cache: deleting it costs one real check. Keeping it
out of the project means no stray file to commit or ignore, it works for
read-only checkouts, and it is independent of ``.venv`` (recreating or
deleting the environment does not forget that the lock is current).

A stat is only trusted when the file was last modified well before it was
recorded (the "racy" window of git's index): an edit within the same clock
tick as the recording cannot hide behind an unchanged size and mtime, because
such a file is always hashed.

The record also names the ghostenv version, so an upgrade that changes what
"satisfies" means starts from a real check. One input it cannot see: a new
workspace member directory matched by an unchanged ``members`` glob (the root
pyproject.toml did not change); ``ghostenv lock --refresh`` re-checks.
"""

from __future__ import annotations

import os

from ghostenv._fast import sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: A stat older than this (relative to the moment of recording) is trusted on its own.
RACY_NS = 2_000_000_000
_MAGIC = "ghostenv-lock-state 1"

# One record per line: "<sha256> <size> <mtime_ns> <ctime_ns> <inode> <relative path>"
# (stat fields "-" when the stat is not trusted). A plain text format because json
# (and the re it imports) would cost more than the whole check.
Record = dict[str, tuple[str, "list[int] | None"]]


def default_cache_dir() -> str:
    """:func:`ghostenv.paths.user_cache_dir` without pathlib (whose import costs 10-20 ms)."""
    import sys

    override = os.environ.get("GHOSTENV_CACHE_DIR")
    if override:
        return os.path.expanduser(override)
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "ghostenv", "Cache")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "ghostenv")
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(home, ".cache")
    return os.path.join(base, "ghostenv")


def _state_file(project_dir: str, cache_dir: str | os.PathLike[str] | None,
                indexes: str = "") -> str:
    """One record per project directory and explicitly given index configuration."""
    if cache_dir is None:
        cache_dir = default_cache_dir()
    key = os.path.realpath(project_dir) + ("\0" + indexes if indexes else "")
    digest = sha256_hex(key.encode())[:32]
    return os.path.join(os.fspath(cache_dir), "lock-state", f"{digest}.txt")


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _sha256(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return sha256_hex(handle.read())
    except OSError:
        return None


def _version() -> str:
    from ghostenv import __version__

    return __version__


def _load(state_path: str) -> Record | None:
    try:
        with open(state_path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
    except (OSError, UnicodeDecodeError):
        return None
    if len(lines) < 3 or lines[0] != f"{_MAGIC} {_version()}":
        return None
    out: Record = {}
    for line in lines[1:]:
        if not line:
            continue
        parts = line.split(" ", 5)
        if len(parts) != 6:
            return None
        digest, *stat_text, rel = parts
        try:
            stat = None if stat_text[0] == "-" else [int(x) for x in stat_text]
        except ValueError:
            return None
        out[rel] = (digest, stat)
    return out


def _dump(state_path: str, record: Record) -> None:
    lines = [f"{_MAGIC} {_version()}"]
    for rel, (digest, stat) in record.items():
        fields = " ".join(map(str, stat)) if stat is not None else "- - - -"
        lines.append(f"{digest} {fields} {rel}")
    try:
        from ghostenv._fast import write_small

        write_small(state_path, ("\n".join(lines) + "\n").encode("utf-8"), make_parent=True)
    except OSError:
        return  # a cache: failing to record only costs a real check next time


def _settled(stat: list[int], now_ns: int | None = None) -> bool:
    """A stat can stand for the content only if the file was not modified just now."""
    import time

    now = time.time_ns() if now_ns is None else now_ns
    return now - stat[1] > RACY_NS


def lock_is_current(
    project_dir: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    indexes: str = "",
) -> bool:
    """True when ``uv.lock`` was verified to satisfy ``pyproject.toml`` and neither changed since.

    No TOML parsing, no network; a few stat calls in the common case.
    ``False`` means "not known": the caller must check for real. ``indexes``
    names index URLs given on the command line or in the environment (not in
    pyproject.toml, whose hash already covers its own): a lock checked against
    other indexes is not vouched for (uv re-locks when the indexes change).

    >>> lock_is_current("examples/hello")  # doctest: +SKIP
    True
    """
    root = os.fspath(project_dir)
    state_path = _state_file(root, cache_dir, indexes)
    record = _load(state_path)
    if record is None or "uv.lock" not in record or "pyproject.toml" not in record:
        return False
    refreshed = False
    for rel, (digest, recorded) in list(record.items()):
        path = os.path.join(root, rel)
        stat = _stat(path)
        if stat is None:
            return False
        if recorded == stat:
            continue
        if _sha256(path) != digest:
            return False
        if _settled(stat):  # worth recording: next time the stat alone answers
            record[rel] = (digest, stat)
            refreshed = True
    if refreshed:
        _dump(state_path, record)
    return True


def record_current(
    project_dir: str | os.PathLike[str],
    verified: Mapping[str, bytes],
    cache_dir: str | os.PathLike[str] | None = None,
    indexes: str = "",
) -> bool:
    """Remember that the files in ``verified`` (relative path -> the bytes checked) agree.

    ``verified`` must hold ``pyproject.toml`` and ``uv.lock`` (plus any other
    input of the check, such as workspace members' ``pyproject.toml``) with the
    exact bytes the real check read or the lock writer wrote. Nothing is
    recorded if a file on disk no longer has those bytes (edited meanwhile), so
    a record never vouches for content that was not checked. Returns whether
    it recorded.
    """
    root = os.fspath(project_dir)
    record: Record = {}
    for rel, data in verified.items():
        if "\n" in rel:
            return False
        path = os.path.join(root, rel)
        before = _stat(path)
        digest = _sha256(path)
        if before is None or digest != sha256_hex(data) or _stat(path) != before:
            return False
        record[rel] = (digest, before if _settled(before) else None)
    if "uv.lock" not in record or "pyproject.toml" not in record:
        return False
    _dump(_state_file(root, cache_dir, indexes), record)
    return True


def forget(
    project_dir: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None = None,
    indexes: str = "",
) -> None:
    """Drop the record (after a failed check, so no stale "yes" survives)."""
    try:
        os.unlink(_state_file(os.fspath(project_dir), cache_dir, indexes))
    except OSError:
        return


__all__ = ["fast_main", "forget", "lock_is_current", "record_current", "sha256_hex"]


def fast_main(argv: list[str]) -> int | None:
    """``ghostenv lock [--check|--locked] [--project DIR]`` answered before argparse is built.

    For the process entry point (``ghostenv.entry``): returns 0 after printing
    the same line the full command prints when the lock is known current, and
    None for anything else (other options, or not known current), meaning
    "run the normal command". Costs a few stat calls on top of Python's start.
    """
    if not argv or argv[0] != "lock":
        return None
    project = "."
    rest = argv[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg in ("--check", "--locked"):
            i += 1
        elif arg == "--project" and i + 1 < len(rest):
            project = rest[i + 1]
            i += 2
        elif arg.startswith("--project="):
            project = arg.split("=", 1)[1]
            i += 1
        else:
            return None
    # GHOSTENV_INDEX_URL / UV_INDEX_URL are defaults (a mirror), not a request to
    # re-lock elsewhere: the same record as without them, as in `ghostenv lock`
    if not lock_is_current(project):
        return None
    import sys

    sys.stderr.write("uv.lock is up to date\n")
    return 0
