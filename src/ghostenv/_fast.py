"""Helpers shared by the stdlib-only fast paths (the entry point's gate, ``venv``, the
uv.lock fingerprint): only ``os`` and ``sys``, so importing this costs nothing measurable."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def cache_dir(given: str | None = None) -> str | None:
    """ghostenv's cache directory as :func:`ghostenv.paths.user_cache_dir` finds it on
    Linux, without pathlib: ``given`` (``--cache-dir``), else ``GHOSTENV_CACHE_DIR``, else
    the XDG location; None on other systems (the full CLI decides there)."""
    override = given or os.environ.get("GHOSTENV_CACHE_DIR")
    if override:
        return os.path.expanduser(override)
    if not sys.platform.startswith("linux"):
        return None
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ghostenv")


def write_small(path: str, data: bytes, *, make_parent: bool = False) -> None:
    """Replace ``path`` with ``data`` by a temp file and a rename, without fsync.

    For records that are caches (the gate's ``.ghostenv-gate``, the lock
    fingerprint): a crash may lose or tear one, which reads as no record and
    costs one real check, never a wrong answer. No pathlib or tempfile imports
    (:func:`ghostenv.fsutil.write_atomic` has both), and no fsync, which costs
    milliseconds on a busy journal.
    """
    import _thread

    if make_parent:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = f"{path}.{os.getpid()}-{_thread.get_ident()}.tmp"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:  # noqa: SIM105 - contextlib costs an import on the fast path
            os.unlink(temp)
        except OSError:
            pass
        raise


def read_file(path: str) -> bytes:
    """A small file's bytes by ``open``/``fstat``/``read``/``close``: a buffered ``open()``
    makes twice the system calls (and an io object), and a fresh sync reads a few dozen
    small files (memos, link indexes). A short read of a regular file is its end; a
    damaged read only fails to parse, and callers treat that as a miss."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        chunks = [data]  # it grew meanwhile
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def sha256_hex(data: bytes) -> str:
    """The sha256 of ``data`` in hex by the builtin module (hashlib, OpenSSL, costs
    5-10 ms to import; this ~0.2 ms, once, on first use)."""
    if not _SHA:
        if TYPE_CHECKING:
            from hashlib import sha256
        else:
            try:
                from _sha256 import sha256  # CPython <= 3.11
            except ImportError:
                try:
                    from _sha2 import sha256  # 3.12+
                except ImportError:
                    from hashlib import sha256
        _SHA.append(sha256)
    return str(_SHA[0](data).hexdigest())


_SHA: list[Any] = []  # the constructor, once found


class suppress:
    """``contextlib.suppress`` without importing contextlib (~0.5 ms, with functools and
    collections behind it) on the fresh-environment sync."""

    def __init__(self, *exceptions: type[BaseException]) -> None:
        self.exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> bool:
        return kind is not None and issubclass(kind, self.exceptions)
