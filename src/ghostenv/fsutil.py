"""Filesystem helpers shared by every stage that must never leave a half-written file.

Stdlib-only (the gate will write its stamp through here).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = False) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the whole new one.

    The bytes go to a unique temp file in the same directory (same filesystem, so
    the rename is atomic), are fsynced, then renamed over ``path``. On any failure,
    Ctrl-C included, the temp file is removed and ``path`` is untouched.
    ``sync_dir`` also fsyncs the directory so the rename itself survives a crash
    (worth it for user files such as uv.lock, not for caches).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if sync_dir:
        with contextlib.suppress(OSError):
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
