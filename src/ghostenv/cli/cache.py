"""``ghostenv cache dir|info|clean|prune|verify``: look after the content-addressed store.

The store lives in ``<cache dir>/store`` (``--cache-dir``, ``GHOSTENV_CACHE_DIR``
or the user cache directory). ``verify`` re-hashes every object, so a disk
error or a hand-edited environment file that reached the store through a
hardlink is found; ``--remove`` deletes what is corrupt, and the next install
unpacks the affected wheels again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ghostenv cache``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("dir", help="print the cache directory")
    sub.add_parser("info", help="objects, bytes and wheels in the store")
    sub.add_parser("clean", help="remove the whole store")
    prune = sub.add_parser("prune", help="remove wheels and objects no live environment uses")
    prune.add_argument("--ci", action="store_true",
                       help="also keep what the project's uv.lock selects (and built wheels), "
                            "for a CI cache")
    prune.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                       help="project whose lock --ci keeps (default: .)")
    prune.add_argument("-p", "--python", default=None, metavar="REQUEST",
                       help="interpreter the lock is selected for (default: requires-python)")
    verify = sub.add_parser("verify", help="re-hash every object and report corrupt ones")
    verify.add_argument("--remove", action="store_true", help="also delete corrupt objects")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Dispatch on the action; ``verify`` exits 1 when it found corruption."""
    from ghostenv.paths import user_cache_dir
    from ghostenv.store import Store

    cache_dir = ctx.cache_dir if str(ctx.cache_dir) not in ("", ".") else user_cache_dir()
    store = Store(cache_dir / "store")
    if args.action == "dir":
        ctx.echo(str(cache_dir))
        return 0
    if args.action == "info":
        info = store.info()
        ctx.echo(f"store: {store.root}")
        ctx.echo(f"objects: {info.objects}")
        ctx.echo(f"bytes: {info.bytes}")
        ctx.echo(f"wheels: {info.wheels}")
        ctx.echo(f"environments: {info.environments}")
        return 0
    if args.action == "prune":
        from ghostenv.workflow.ephemeral import prune_ephemeral

        gone = prune_ephemeral(cache_dir)
        if gone:
            ctx.echo(f"removed {len(gone)} unused ephemeral environment(s)")
        if args.ci:
            from ghostenv.integrate.ci import prune_for_ci

            pruned = prune_for_ci(store, args.project, args.python, cache_dir)
        else:
            pruned = store.prune()
        ctx.echo(f"removed {pruned.wheels} wheels, {pruned.objects} objects "
                 f"({pruned.bytes} bytes) from {store.root}")
        return 0
    if args.action == "clean":
        before = store.info()
        store.clean()
        ctx.echo(f"removed {before.objects} objects ({before.bytes} bytes), "
                 f"{before.wheels} wheels from {store.root}")
        return 0
    report = store.verify(remove=args.remove)
    for path in report.paths:
        ctx.echo(f"corrupt: {path}" + (" (removed)" if args.remove else ""))
    ctx.echo(f"checked {report.checked} objects, {len(report.corrupt)} corrupt")
    if report.corrupt and not args.remove:
        ctx.warn("run `ghostenv cache verify --remove` to delete them; "
                 "reinstalling then unpacks the affected wheels again")
    return 1 if report.corrupt else 0
