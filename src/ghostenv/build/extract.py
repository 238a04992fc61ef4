"""Unpacking an sdist without trusting it.

An sdist is an archive from the internet that is about to be handed to a build
backend, so every member is checked before anything is written: no absolute
paths, no ``..`` component, no symlink or hardlink (sdists have no business
carrying them, and a link is the usual way to make a later member land outside
the target), no device files, and no more than ``GHOSTENV_SDIST_MAX_BYTES``
(4 GiB) in all, from the sizes the headers declare. The first offending member
refuses the whole archive; nothing is extracted in that case.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import IO

from ghostenv.errors import BuildError

_HINT = "the sdist is malformed or malicious; ghostenv will not build it"
#: Refuse archives that would unpack to more than this (a decompression bomb); the
#: environment variable raises it for the rare huge legitimate sdist.
DEFAULT_MAX_BYTES = 4 << 30


def _max_bytes() -> int:
    try:
        return int(os.environ.get("GHOSTENV_SDIST_MAX_BYTES", DEFAULT_MAX_BYTES))
    except ValueError:
        return DEFAULT_MAX_BYTES


def _check_total(archive: str, total: int) -> None:
    limit = _max_bytes()
    if total > limit:
        raise BuildError(f"{archive}: unpacks to {total} bytes, more than the {limit} allowed",
                         hint="set GHOSTENV_SDIST_MAX_BYTES to allow it, if the sdist is trusted")


def _check_name(archive: str, name: str) -> str:
    """The member's normalized relative path, or BuildError when it could escape."""
    clean = name.replace("\\", "/")
    if clean.startswith("/") or (len(clean) > 1 and clean[1] == ":"):
        raise BuildError(f"{archive}: member {name!r} has an absolute path", hint=_HINT)
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BuildError(f"{archive}: member {name!r} points outside the archive", hint=_HINT)
    return posixpath.join(*parts) if parts else ""


def _write_member(target: Path, is_dir: bool, source: Callable[[], IO[bytes] | None]) -> bool:
    """Create one checked member at ``target``: a directory, or a file copied from ``source``.

    The tar and zip readers differ only in how they check and open members;
    writing them out is this, once. True when a file was written (the caller
    then sets its mode from the archive's own bits).
    """
    if is_dir:
        target.mkdir(parents=True, exist_ok=True)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    stream = source()
    if stream is None:
        return False
    with stream, open(target, "wb") as out:
        shutil.copyfileobj(stream, out)
    return True


def _extract_tar(path: Path, dest: Path) -> None:
    try:
        tf = tarfile.open(path)  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(f"{path.name}: not a readable tar archive ({exc})", hint=_HINT) from exc
    with tf:
        members = tf.getmembers()
        plan: list[tuple[tarfile.TarInfo, str]] = []
        for member in members:
            rel = _check_name(path.name, member.name)
            if member.issym() or member.islnk():
                raise BuildError(f"{path.name}: member {member.name!r} is a link "
                                 f"(to {member.linkname!r})", hint=_HINT)
            if not (member.isfile() or member.isdir()):
                raise BuildError(f"{path.name}: member {member.name!r} is not a regular file",
                                 hint=_HINT)
            if rel:
                plan.append((member, rel))
        _check_total(path.name, sum(m.size for m, _ in plan))
        for member, rel in plan:
            target = dest / rel
            if _write_member(target, member.isdir(), partial(tf.extractfile, member)):
                os.chmod(target, 0o755 if member.mode & 0o111 else 0o644)


def _extract_zip(path: Path, dest: Path) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BuildError(f"{path.name}: not a readable zip archive ({exc})", hint=_HINT) from exc
    with zf:
        plan: list[tuple[zipfile.ZipInfo, str]] = []
        for info in zf.infolist():
            rel = _check_name(path.name, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise BuildError(f"{path.name}: member {info.filename!r} is a link", hint=_HINT)
            if rel:
                plan.append((info, rel))
        _check_total(path.name, sum(i.file_size for i, _ in plan))
        for info, rel in plan:
            target = dest / rel
            written = _write_member(target, info.is_dir(), partial(zf.open, info))
            if written and (info.external_attr >> 16) & 0o111:
                os.chmod(target, 0o755)


def extract_sdist(path: Path, dest: Path) -> Path:
    """Unpack the sdist at ``path`` into ``dest``; return the project directory inside.

    The project directory is the single top-level directory sdists have
    (``name-version/``), or ``dest`` itself for an archive without one.
    """
    name = path.name
    dest.mkdir(parents=True, exist_ok=True)
    if name.endswith(".zip"):
        _extract_zip(path, dest)
    elif name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar")):
        _extract_tar(path, dest)
    else:
        raise BuildError(f"{name}: not an sdist (.tar.gz or .zip)",
                         hint="pass a project directory or a source archive")
    entries = list(dest.iterdir())
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return dest


__all__ = ["extract_sdist"]
