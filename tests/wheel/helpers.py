"""Build small real wheels (and deliberately broken ones) for the wheel tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

METADATA = (
    "Metadata-Version: 2.1\n"
    "Name: {name}\n"
    "Version: {version}\n"
    "Requires-Python: >=3.9\n"
    "Requires-Dist: idna>=2.5\n"
    "Requires-Dist: pysocks!=1.5.7,>=1.5.6; extra == \"socks\"\n"
    "Provides-Extra: socks\n"
    "\n"
    "A demo package.\n"
)


def make_wheel(directory: Path, name: str = "demo_pkg", version: str = "1.2.0", *,
               entries: dict[str, bytes] | None = None, metadata: bool = True,
               compression: int = zipfile.ZIP_DEFLATED, comment: bytes = b"",
               filename: str | None = None) -> Path:
    """A wheel with a package module, METADATA (unless told not to) and *entries*."""
    path = directory / (filename or f"{name}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        zf.writestr(f"{name}/__init__.py", b"VALUE = 1\n" * 50)
        for entry, data in (entries or {}).items():
            zf.writestr(entry, data)
        if metadata:
            zf.writestr(f"{name}-{version}.dist-info/METADATA",
                        METADATA.format(name=name.replace("_", "-"), version=version))
        zf.writestr(f"{name}-{version}.dist-info/WHEEL", b"Wheel-Version: 1.0\n")
        zf.comment = comment
    return path
