"""Build small, real wheels with zipfile for store and installer tests."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def make_wheel(
    directory: Path,
    name: str = "demo",
    version: str = "1.0",
    files: dict[str, bytes] | None = None,
    *,
    tag: str = "py3-none-any",
    entry_points: str = "",
    purelib: bool = True,
    executable: set[str] | frozenset[str] = frozenset(),
    tamper: dict[str, bytes] | None = None,
    raw_members: dict[str, bytes] | None = None,
) -> Path:
    """Write ``<name>-<version>-<tag>.whl`` with a correct RECORD.

    ``tamper`` replaces a member's bytes after RECORD was computed (a RECORD
    mismatch); ``raw_members`` adds entries not listed in RECORD (e.g. unsafe paths).
    """
    files = dict(files or {f"{name}/__init__.py": b"VALUE = 42\n"})
    dist_info = f"{name}-{version}.dist-info"
    files[f"{dist_info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode())
    files[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: ghostenv-tests\n"
        f"Root-Is-Purelib: {'true' if purelib else 'false'}\nTag: {tag}\n").encode()
    if entry_points:
        files[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{p},{_digest(d)},{len(d)}\n" for p, d in files.items())
    record += f"{dist_info}/RECORD,,\n"
    files.update(tamper or {})
    path = directory / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in {**files, f"{dist_info}/RECORD": record.encode()}.items():
            info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if member in executable else 0o100644) << 16
            archive.writestr(info, data)
        for member, data in (raw_members or {}).items():
            archive.writestr(member, data)
    return path
