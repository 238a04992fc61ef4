"""Where ghostenv keeps its global state (stdlib-only: used on the fast path)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def user_cache_dir() -> Path:
    """The platform's per-user cache directory for ghostenv.

    ``GHOSTENV_CACHE_DIR`` wins; then XDG on Linux, ``~/Library/Caches`` on macOS
    and ``%LOCALAPPDATA%`` on Windows, the same places ``platformdirs`` picks.
    """
    override = os.environ.get("GHOSTENV_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "ghostenv" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "ghostenv"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base_path = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base_path / "ghostenv"
