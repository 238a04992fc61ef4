"""``ghostenv export``: the project's uv.lock as a hash-pinned requirements.txt.

Reads the lock as is (like ``uv export --frozen``): no resolving, no network,
so it is instant and works offline; run ``ghostenv lock`` first if the project
changed. Stdlib-only at import time.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        default="requirements-txt",
        choices=["requirements-txt"],
        help="output format (only requirements-txt)",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="project directory holding uv.lock (default: .)",
    )
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="E",
        help="include an optional-dependency extra (repeatable)",
    )
    parser.add_argument("--all-extras", action="store_true", help="include every extra")
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="G",
        help="include a dependency group (repeatable; `dev` is on by default)",
    )
    parser.add_argument("--all-groups", action="store_true", help="include every group")
    parser.add_argument("--no-dev", action="store_true", help="leave out the `dev` group")
    parser.add_argument("--no-hashes", action="store_true", help="omit --hash lines")
    parser.add_argument("-o", "--output-file", type=Path, help="write here instead of stdout")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.lock.export import ExportOptions, export_requirements
    from ghostenv.lock.read import read_lock
    from ghostenv.lock.write import write_atomic

    if args.all_extras and args.extra:
        raise UsageError("--extra and --all-extras cannot be used together")
    lock = read_lock(args.project / "uv.lock")
    groups = tuple(dict.fromkeys(([] if args.no_dev else ["dev"]) + args.group))
    options = ExportOptions(
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        groups=groups,
        all_groups=args.all_groups,
        hashes=not args.no_hashes,
    )
    text = export_requirements(lock, options)
    if args.output_file is not None:
        write_atomic(args.output_file, text)
        ctx.info(f"Wrote {args.output_file}")
    else:
        ctx.echo(text.rstrip("\n"))
    return 0
