"""``ghostenv cp SRC DST [--mode ...]``: clone a file or tree the way installs do, and say how.

It is both a tool and a probe: it reports the link mode that was actually
used (a clone request on a filesystem without reflink says it fell back) and
how many bytes the copy really cost, measured as the target filesystem's
free-space change, so a reflink or hardlink visibly costs (almost) nothing.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.cli.output import Context

if TYPE_CHECKING:
    from ghostenv.materialize.link import LinkMode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ghostenv cp``."""
    parser.add_argument("src", type=Path, help="file or directory to copy")
    parser.add_argument("dst", type=Path, help="new path (or an existing directory to copy into)")
    parser.add_argument(
        "--mode", default=None, metavar="MODE",
        help="auto, clone, hardlink, copy, symlink, or a plugin's mode (default: "
             "GHOSTENV_LINK_MODE, else auto: clone, then hardlink, then copy)",
    )


def _free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bfree * st.f_frsize


def _human(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Copy, then print the modes used, logical bytes and bytes actually allocated."""
    from collections import Counter

    from ghostenv.errors import UsageError
    from ghostenv.materialize.link import Linker, LinkMode

    src: Path = args.src
    dst: Path = args.dst
    if not src.exists():
        raise UsageError(f"{src}: no such file or directory")
    if dst.is_dir():
        dst = dst / src.name
    if os.path.lexists(dst):
        raise UsageError(f"{dst}: already exists", hint="remove it or choose a new path")
    requested: LinkMode | str | None
    if args.mode in (None, "auto"):
        requested = None if args.mode == "auto" else _env_mode()
    else:
        requested = str(args.mode).lower()
    try:
        linker = Linker(requested, on_fallback=ctx.warn)
    except ValueError as exc:
        raise UsageError(str(exc), hint="modes: auto, clone, hardlink, copy, symlink") from None
    dst.parent.mkdir(parents=True, exist_ok=True)
    before = _free_bytes(dst.parent)
    modes: Counter[str] = Counter()
    logical = copied = 0
    pairs: list[tuple[Path, Path]] = []
    if src.is_dir():
        for dirpath, dirnames, filenames in os.walk(src):
            rel = Path(dirpath).relative_to(src)
            (dst / rel).mkdir(parents=True, exist_ok=True)
            for name in sorted(filenames) + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
                pairs.append((Path(dirpath, name), dst / rel / name))
    else:
        pairs.append((src, dst))
    for source, target in pairs:
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
            modes["symlink"] += 1
            continue
        used = linker.link(source, target, writable=os.access(source, os.X_OK))
        modes[used.value] += 1
        logical += source.stat().st_size
        if used is LinkMode.COPY:  # a copy owns every block it has; clones/links share theirs
            copied += target.stat().st_blocks * 512
    os.sync()
    freed = before - _free_bytes(dst.parent)
    summary = ", ".join(f"{count} by {mode}" for mode, count in sorted(modes.items()))
    ctx.echo(f"{dst}: {len(pairs)} file(s), {summary or 'nothing to copy'}")
    ctx.echo(f"logical size {_human(logical)}; bytes copied {_human(copied)} (st_blocks of copies);"
             f" filesystem free space went down by {_human(max(0, freed))}")
    return 0


def _env_mode() -> LinkMode | None:
    from ghostenv.errors import UsageError
    from ghostenv.materialize.link import mode_from_env

    try:
        return mode_from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
