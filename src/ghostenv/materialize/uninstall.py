"""Removing an installed distribution: exactly the files its RECORD lists, nothing else.

RECORD paths are relative to the directory that holds the ``.dist-info``
(``site-packages``) and may climb out of it (``../../../bin/tool``) for scripts
and data. Directories are removed only when they end up empty, and never above
the site-packages directory or the environment's top.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from ghostenv.errors import InstallError


def find_dist_info(site_packages: Path, name: str) -> Path | None:
    """The ``.dist-info`` directory of project ``name`` in ``site_packages``, if installed."""
    wanted = _normalize(name)
    if not site_packages.is_dir():
        return None
    for entry in site_packages.iterdir():
        if entry.suffix == ".dist-info" and _normalize(entry.name.split("-")[0]) == wanted:
            return entry
    return None


def _normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def uninstall(dist_info: Path, *, env_root: Path | None = None) -> list[Path]:
    """Remove what ``dist_info/RECORD`` lists (and the ``.pyc`` files of listed ``.py``).

    Returns the removed files. Entries pointing outside ``env_root`` (when
    given) are refused rather than removed.
    """
    record = dist_info / "RECORD"
    try:
        text = record.read_text("utf-8")
    except FileNotFoundError:
        raise InstallError(f"{dist_info}: no RECORD, so ghostenv cannot tell what to remove",
                           hint="reinstall the package to repair it, then remove it") from None
    site = dist_info.parent
    limit = os.path.realpath(env_root) if env_root is not None else None
    removed: list[Path] = []
    parents: set[Path] = set()
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(site / row[0]))
        real_parent = os.path.realpath(path.parent)
        if limit is not None and os.path.commonpath([limit, real_parent]) != limit:
            raise InstallError(f"{record}: entry {row[0]!r} points outside {env_root}")
        candidates = [path]
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                candidates += cache.glob(f"{path.stem}.*.pyc")
        for candidate in candidates:
            try:
                candidate.unlink()
            except FileNotFoundError:
                continue
            removed.append(candidate)
            parents.add(candidate.parent)
    stop = {os.path.realpath(site), os.path.realpath(env_root) if env_root else ""}
    for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        current = directory
        while os.path.realpath(current) not in stop and current != current.parent:
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent
    return removed
