"""Wheel archives: find and parse METADATA while reading as few bytes as possible.

``read_local_metadata`` (a path) and ``remote.fetch_wheel_metadata`` (a URL,
async) are the entry points; ``zipreader`` holds the shared ZIP parsing.
"""

from __future__ import annotations

from pathlib import Path

from ghostenv.wheel.filename import parse_wheel_name, select_metadata
from ghostenv.wheel.zipreader import LocalZip, ReadStats


def read_local_metadata(path: Path | str) -> tuple[bytes, ReadStats]:
    """Return the METADATA bytes of a local wheel and the I/O it took."""
    path = Path(path)
    wheel = parse_wheel_name(path.name)
    try:
        zf = LocalZip(path)
    except FileNotFoundError as exc:
        from ghostenv.errors import WheelError

        raise WheelError(f"{path}: no such file", hint="check the path") from exc
    with zf:
        entry = zf.central.entry(select_metadata(zf.central, wheel))
        return zf.read(entry), zf.stats


__all__ = ["read_local_metadata"]
