"""A remembered answer to ``find_interpreter(request)``, checked with a few ``stat`` calls.

Finding "3.12" walks ``PATH``, pyenv and the system directories and reads a
probe cache entry for every Python met on the way: with a dozen candidates
that is milliseconds of imports (``re``, the request parser) and JSON. The
answer only changes when something on that walk changes, so it is kept with
the walk's *trail*: every directory scanned and every executable looked at
before the hit (and the hit itself, with its ``pyvenv.cfg``), each with its
``stat`` identity (inode, size, mtime), and the hit's probe cache entry (the
probe cache stays the authority on what an interpreter is). Adding, removing or retargeting a
Python changes a directory's mtime; replacing one in place changes its own
identity. Either way the memo no longer matches and the full search runs.
The environment variables that steer the search are part of the memo too.

Stdlib only (``os``, ``sys``, ``marshal``): ``ghostenv venv`` answers from here
without importing the search.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

#: Bump when the memo's tuple layout changes.
FORMAT = 1
_ENV_VARS = ("PATH", "VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_ROOT", "HOME")


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _context(request: str | None) -> tuple[str, ...]:
    """What steers the search besides the file system: the environment, and the working
    directory when the request may be a relative path."""
    text = (request or "").strip()
    relative = bool(text) and not os.path.isabs(text) and (
        os.sep in text or text.startswith((".", "~")) or os.path.exists(text))
    return (*(os.environ.get(name, "") for name in _ENV_VARS),
            os.getcwd() if relative else "", sys.platform)


def memo_path(cache_dir: str | os.PathLike[str], request: str | None,
              allow_unsupported: bool = False) -> str:
    """The memo file of one request (the request text, escaped, is its name)."""
    text = (request or "").strip()
    name = text.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if len(name) > 150:
        import hashlib

        name = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    flag = "-any" if allow_unsupported else ""
    return os.path.join(os.fspath(cache_dir), "interpreters-v1",
                        f"find-{name}{flag}.m{marshal.version}")


def lookup(cache_dir: str | os.PathLike[str], request: str | None,
           allow_unsupported: bool = False) -> tuple[str, dict[str, Any], str] | None:
    """``(path, probe data, source)`` remembered for ``request``, or None if anything moved."""
    try:
        with open(memo_path(cache_dir, request, allow_unsupported), "rb") as handle:
            memo = marshal.loads(handle.read())
        version, context, trail, path, data, source = memo
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if version != FORMAT or context != _context(request):
        return None
    for item, stamp in trail:
        if _stamp(item) != stamp:
            return None
    return path, data, source


def remember(cache_dir: str | os.PathLike[str], request: str | None, *, trail: Iterable[str],
             path: str, data: dict[str, Any], source: str,
             allow_unsupported: bool = False) -> None:
    """Keep the answer ``path`` (probed as ``data``) with the ``trail`` that led to it."""
    items = dict.fromkeys([*trail, path,
                           os.path.join(os.path.dirname(os.path.dirname(path)), "pyvenv.cfg")])
    stamps = tuple((item, _stamp(item)) for item in items)
    target = memo_path(cache_dir, request, allow_unsupported)
    temp = f"{target}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(temp, "wb") as handle:
            handle.write(marshal.dumps((FORMAT, _context(request), stamps, path, data, source)))
        os.replace(temp, target)
    except (OSError, ValueError):
        return  # a memo we cannot write only costs speed
