"""``ghostenv ci cache-key``: a deterministic, offline cache key for CI caches of the store.

``--format plain`` prints the key. ``--format github`` prints ``key=``,
``restore-keys=`` and ``path=`` lines to append to ``$GITHUB_OUTPUT``::

    ghostenv ci cache-key --format github >> "$GITHUB_OUTPUT"

See :mod:`ghostenv.integrate.ci` for what the key covers. Stdlib-only at import.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import GhostenvError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context
    from ghostenv.discover import Interpreter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ci_command", metavar="ACTION", required=True)
    key = sub.add_parser("cache-key", help="print a cache key for the store (lock + Python ABI + "
                         "platform + store schema)")
    key.add_argument("--format", choices=("plain", "github"), default="plain",
                     help="plain: the key alone; github: key=/restore-keys=/path= lines for "
                          "$GITHUB_OUTPUT")
    key.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                     help="project directory holding uv.lock (default: .)")
    key.add_argument("-p", "--python", metavar="REQUEST", default=None,
                     help="interpreter the cache serves (default: as `ghostenv sync` picks it)")
    key.add_argument("--explain", action="store_true",
                     help="also print what went into the key (to stderr)")


def _interpreter(project_dir: Path, request: str | None, ctx: Context) -> Interpreter:
    from ghostenv.discover import find_interpreter

    if request is None:
        from ghostenv.project.read import read_project

        try:
            project = read_project(project_dir)
        except GhostenvError as exc:  # no or odd pyproject.toml: the lock alone still keys
            ctx.debug(f"pyproject.toml not used to pick the interpreter: {exc.message}")
        else:
            if project.requires_python is not None:
                request = str(project.requires_python)
    return find_interpreter(request, ctx.cache_dir)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.integrate.ci import cache_key, read_project_lock

    root = args.project.resolve()
    lock = read_project_lock(root)
    interpreter = _interpreter(root, args.python, ctx)
    key = cache_key(lock, interpreter)
    if args.format == "github":
        lines = [f"key={key.key}", f"restore-keys={key.restore_keys[0]}",
                 f"path={ctx.cache_dir}"]
    else:
        lines = [key.key]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.explain:
        sys.stderr.write(
            f"lock content sha256: {key.lock_digest}\n"
            f"python abi: {key.abi}\nplatform: {key.platform}\nstore schema: {key.schema}\n"
        )
    return 0
