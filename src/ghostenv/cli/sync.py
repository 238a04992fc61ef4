"""``ghostenv sync --frozen``: materialize the project's uv.lock into its environment.

Only the frozen mode exists so far: the lock is used as is. Without
``--frozen`` ghostenv would have to lock first, which it cannot do yet, so it
says that and exits 2 instead of silently syncing a possibly stale lock.
Stdlib-only at import time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--frozen", action="store_true",
                        help="use uv.lock as is, without checking it against pyproject.toml")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="project directory (default: .)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter: 3.12, >=3.10, cpython@3.11, pypy, or a path")
    parser.add_argument("--group", action="append", default=[], metavar="G",
                        help="include a dependency group (repeatable; `dev` is on by default)")
    parser.add_argument("--all-groups", action="store_true", help="include every group")
    parser.add_argument("--no-dev", action="store_true", help="leave out the `dev` group")
    parser.add_argument("--extra", action="append", default=[], metavar="E",
                        help="include an optional-dependency extra (repeatable)")
    parser.add_argument("--all-extras", action="store_true", help="include every extra")


def _environment_path(root: Path) -> Path:
    for var in ("GHOSTENV_PROJECT_ENVIRONMENT", "UV_PROJECT_ENVIRONMENT"):
        value = os.environ.get(var)
        if value:
            path = Path(value).expanduser()
            return path if path.is_absolute() else root / path
    return root / ".venv"


def run(args: argparse.Namespace, ctx: Context) -> int:
    if not args.frozen:
        ctx.error("locking is not implemented yet, so `ghostenv sync` needs --frozen",
                  hint="run `uv lock` to update uv.lock, then `ghostenv sync --frozen`")
        return 2
    if args.all_extras and args.extra:
        raise UsageError("--extra and --all-extras cannot be used together")

    from ghostenv.discover import find_interpreter
    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.read import read_lock
    from ghostenv.project.read import read_project
    from ghostenv.store import Store
    from ghostenv.workflow.sync import sync_environment

    started = time.perf_counter()
    root = args.project.resolve()
    project = read_project(root)
    lock = read_lock(root / "uv.lock")
    request = args.python
    if request is None and project.requires_python is not None:
        request = str(project.requires_python)
    interpreter = find_interpreter(request, ctx.cache_dir)
    groups = tuple(dict.fromkeys(([] if args.no_dev else ["dev"]) + args.group))
    options = ExportOptions(extras=tuple(args.extra), all_extras=args.all_extras,
                            groups=groups, all_groups=args.all_groups)
    store = Store(ctx.cache_dir / "store")
    report = sync_environment(lock, root, _environment_path(root), interpreter, store,
                              options=options,
                              keep=(project.name,), prompt=project.name,
                              progress=ctx.debug)
    if report.recreated is not None:
        ctx.warn(f"recreated {_environment_path(root)}: {report.recreated}")
    for name in report.removed:
        ctx.debug(f" - {name}")
    for name in report.installed:
        ctx.debug(f" + {name}")
    if not project.virtual:
        ctx.warn(f"the project `{project.name}` itself is not installed: building it "
                 "(editable) is not supported yet")
    total_ms = (time.perf_counter() - started) * 1000
    if not ctx.quiet:
        count = len(report.installed)
        noun = "package" if count == 1 else "packages"
        parts = [f"Installed {count} {noun} in {report.install_ms:.0f}ms"]
        if report.removed:
            parts.append(f"removed {len(report.removed)}")
        if report.downloaded:
            parts.append(f"downloaded {report.downloaded} in {report.download_ms:.0f}ms")
        line = parts[0] + (f" ({', '.join(parts[1:])})" if parts[1:] else "")
        sys.stderr.write(line + "\n")
        ctx.debug(f"sync took {total_ms:.0f} ms in all")
    return 0
