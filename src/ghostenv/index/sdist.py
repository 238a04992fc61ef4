"""Metadata from local files and sdists: a wheel's METADATA, an sdist's trustworthy PKG-INFO.

An sdist's PKG-INFO is only trusted when Metadata-Version >= 2.2 (PEP 643) and none of the
fields resolution needs is marked Dynamic; otherwise a PEP 517 metadata build is needed.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from ghostenv.errors import BuildError


def local_metadata(path: Path) -> bytes:
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            name = next(n for n in zf.namelist()
                        if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
            return zf.read(name)
    return sdist_metadata(path.read_bytes(), path.name)


_STATIC_NEEDED = ("requires-dist", "requires-python", "provides-extra")


def sdist_metadata(data: bytes, filename: str) -> bytes:
    """PKG-INFO of an sdist, when Metadata-Version >= 2.2 says its fields are static."""
    raw: bytes | None = None
    if filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")]
            raw = zf.read(names[0]) if names else None
    else:
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            for member in tf.getmembers():
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    fh = tf.extractfile(member)
                    raw = fh.read() if fh else None
                    break
    hint = "a PEP 517 metadata build is needed (not available yet in `peek`)"
    if raw is None:
        raise BuildError(f"{filename}: no PKG-INFO in the sdist", hint=hint)
    headers = raw.split(b"\n\n", 1)[0].decode("utf-8", "replace").lower()
    version = "0"
    dynamic = set()
    for line in headers.splitlines():
        key, _, value = line.partition(":")
        if key == "metadata-version":
            version = value.strip()
        elif key == "dynamic":
            dynamic.add(value.strip())
    major, _, minor = version.partition(".")
    if (int(major or 0), int(minor or 0) if minor.isdigit() else 0) < (2, 2):
        raise BuildError(f"{filename}: PKG-INFO Metadata-Version {version} < 2.2 is not "
                         "trustworthy", hint=hint)
    if dynamic & set(_STATIC_NEEDED):
        raise BuildError(f"{filename}: PKG-INFO marks {sorted(dynamic)} dynamic", hint=hint)
    return raw


__all__ = ["local_metadata", "sdist_metadata"]
