"""``ghostenv lock``: write or check the project's uv.lock (universal, uv's format).

Stdlib-only at import time. A lock that is already up to date is answered from
the recorded fingerprint (:mod:`ghostenv.lock.current`) before anything heavy
is imported, so ``ghostenv lock`` on an unchanged project costs about as much as
starting Python.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="exit 1 (with the reason) if uv.lock does not satisfy the project")
    parser.add_argument("--locked", action="store_true",
                        help="same as --check (uv's spelling)")
    parser.add_argument("-U", "--upgrade", action="store_true",
                        help="ignore the versions in the existing lock")
    parser.add_argument("-P", "--upgrade-package", action="append", default=[], metavar="NAME",
                        help="ignore the locked version of NAME (repeatable)")
    parser.add_argument("--refresh", action="store_true",
                        help="revalidate cached index pages and re-resolve even if up to date")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="project directory (default: .)")
    parser.add_argument("--index-url", default=None, metavar="URL",
                        help="the index to lock against, instead of the project's (default: "
                             "the project's, else GHOSTENV_INDEX_URL / UV_INDEX_URL, else PyPI)")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                        help="another index (repeatable)")


def _index_from_env() -> str | None:
    for var in ("GHOSTENV_INDEX_URL", "UV_INDEX_URL"):
        value = os.environ.get(var)
        if value:
            return value
    return None


def run(args: argparse.Namespace, ctx: Context) -> int:
    started = time.perf_counter()
    check = args.check or args.locked
    if check and (args.upgrade or args.upgrade_package):
        raise UsageError("--check/--locked cannot be combined with --upgrade")
    upgrade: bool | frozenset[str] = bool(args.upgrade) or frozenset(args.upgrade_package)
    root = args.project
    index_url = args.index_url or _index_from_env()

    if not upgrade and not args.refresh:
        from ghostenv.lock.current import lock_is_current

        explicit = ""  # index flags (not environment defaults) key the fingerprint
        if args.index_url or args.extra_index_url:
            base = index_url or "https://pypi.org/simple/"
            explicit = " ".join((base, *args.extra_index_url))
        if lock_is_current(root, ctx.cache_dir, explicit):
            ms = (time.perf_counter() - started) * 1000
            ctx.info(f"uv.lock is up to date ({ms:.0f} ms)")
            return 0

    from dataclasses import replace

    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.workflow.lock import lock_project

    links = os.environ.get("GHOSTENV_FIND_LINKS") or os.environ.get("UV_FIND_LINKS") or ""
    settings = IndexSettings(extra_index_urls=tuple(args.extra_index_url),
                             find_links=tuple(links.replace(",", " ").split()),
                             cache_dir=ctx.cache_dir, offline=ctx.offline, refresh=args.refresh)
    if index_url is not None:
        settings = replace(settings, index_url=index_url)
    outcome = lock_project(
        root,
        settings=settings,
        mode="check" if check else "write",
        upgrade=upgrade,
        cache_dir=ctx.cache_dir,
        # flags replace the project's indexes; GHOSTENV_INDEX_URL / UV_INDEX_URL only replace
        # the default (PyPI), as for `ghostenv sync`
        project_indexes=not (args.index_url or args.extra_index_url),
        check_indexes=True if (args.index_url or args.extra_index_url) else None,
        log=ctx.debug,
    )
    ms = (time.perf_counter() - started) * 1000
    count = f"{outcome.packages} packages, " if outcome.packages is not None else ""
    if outcome.changed:
        ctx.info(f"Wrote {outcome.path} ({count}{ms:.0f} ms): {outcome.reason}"
                 if outcome.reason else f"Wrote {outcome.path} ({count}{ms:.0f} ms)")
    else:
        ctx.info(f"uv.lock is up to date ({count}{ms:.0f} ms)")
    return 0
