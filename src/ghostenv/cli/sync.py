"""``ghostenv sync``: make the project's environment match its uv.lock.

The no-op case is answered by the gate in :mod:`ghostenv.entry` before this
module is imported, and a stale sync whose arguments entry.py's hand parser
understood runs through :func:`direct` (no argparse). Arriving in :func:`run`
means argparse was needed (an option the fast path does not parse, ``-v``,
``--cache-dir`` ...); the gate is asked again, which costs well under a
millisecond. Stdlib-only at import time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ghostenv.errors import UsageError

TYPE_CHECKING = False  # typing costs an import on the way to a stale sync
if TYPE_CHECKING:
    import argparse

    from ghostenv.cli.output import Context
    from ghostenv.workflow.gate import Selection
    from ghostenv.workflow.sync import SyncReport


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by ``sync``, ``run`` and ``status``: what to install, from which lock."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--frozen", action="store_true",
                      help="use uv.lock as is, without checking it against pyproject.toml")
    mode.add_argument("--locked", action="store_true",
                      help="fail (exit 1) if uv.lock would have to change")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="project directory (default: the nearest with a pyproject.toml)")
    parser.add_argument("-p", "--python", metavar="REQUEST",
                        default=os.environ.get("GHOSTENV_PYTHON") or os.environ.get("UV_PYTHON"),
                        help="interpreter: 3.12, >=3.10, cpython@3.11, pypy, or a path "
                             "(default: GHOSTENV_PYTHON or UV_PYTHON)")
    parser.add_argument("--group", action="append", default=[], metavar="G",
                        help="include a dependency group (repeatable; `dev` is on by default)")
    parser.add_argument("--all-groups", action="store_true", help="include every group")
    parser.add_argument("--no-default-groups", action="store_true",
                        help="leave out the default groups (`dev`, or tool.uv.default-groups)")
    parser.add_argument("--no-dev", action="store_true", help="leave out the `dev` group")
    parser.add_argument("--extra", action="append", default=[], metavar="E",
                        help="include an optional-dependency extra (repeatable)")
    parser.add_argument("--all-extras", action="store_true", help="include every extra")
    parser.add_argument("--no-install-project", action="store_true",
                        help="install the dependencies but not the project itself")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_selection_arguments(parser)
    parser.add_argument("--inexact", action="store_true",
                        help="keep packages the lock does not list")
    parser.add_argument("--check", action="store_true",
                        help="print `fresh` or why the environment is stale; exit 0/1; change "
                             "nothing")


def project_dir(args: argparse.Namespace) -> Path:
    """``--project`` or the nearest directory at or above cwd with a pyproject.toml."""
    from ghostenv.errors import ProjectError
    from ghostenv.workflow.gate import find_project

    if args.project is not None:
        root = Path(os.path.abspath(args.project))
        if not (root / "pyproject.toml").is_file():
            raise ProjectError(f"{root}: no pyproject.toml",
                               hint="pass --project with a project directory")
        return root
    found = find_project()
    if found is None:
        raise ProjectError(f"no pyproject.toml in {Path.cwd()} or any parent directory",
                           hint="run inside a project, or pass --project DIR")
    # abspath, not resolve(): the gate's fast path names the project the same way
    root = Path(found)
    workspace = _enclosing_workspace(root)
    if workspace is not None:
        raise ProjectError(f"{root} is a member of the workspace at {workspace}, whose uv.lock "
                           "and environment it shares; syncing a member alone is not supported yet",
                           hint=f"run `ghostenv sync --project {workspace}`")
    return root


def _enclosing_workspace(root: Path) -> Path | None:
    """A parent directory whose pyproject.toml declares a uv workspace, when ``root`` has no
    uv.lock of its own (a member: uv keeps one lock and one .venv at the workspace root)."""
    if (root / "uv.lock").is_file():
        return None
    for parent in root.parents:
        try:
            text = (parent / "pyproject.toml").read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "[tool.uv.workspace]" in text:
            return parent
    return None


def selection(args: argparse.Namespace, *, exact: bool) -> Selection:
    from ghostenv.workflow.gate import Selection

    if args.all_extras and args.extra:
        raise UsageError("--extra and --all-extras cannot be used together")
    return Selection(groups=args.group, all_groups=args.all_groups,
                     no_default_groups=args.no_default_groups, no_dev=args.no_dev,
                     extras=args.extra, all_extras=args.all_extras,
                     no_install_project=args.no_install_project, python=args.python,
                     checked=not args.frozen, exact=exact)


def summary(report: SyncReport) -> str:
    """The one line a sync prints when it changed something (or had to look)."""
    from ghostenv.workflow.frozen import summary_line

    return summary_line(len(report.installed), report.install_ms, removed=len(report.removed),
                        downloaded=report.downloaded, download_ms=report.download_ms,
                        built=tuple(report.built))


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.workflow import gate

    started = time.perf_counter()
    root = project_dir(args)
    env_dir = Path(gate.environment_dir(str(root)))
    sel = selection(args, exact=not args.inexact)
    reason = gate.check(str(root), str(env_dir), sel, refresh=not args.check)
    if args.check:
        sys.stdout.write(f"{reason or 'fresh'}\n")
        return 0 if reason is None else 1
    if reason is None:
        if not ctx.quiet:
            state = gate.load(str(env_dir))
            count = state.count if state is not None else 0
            took = (time.perf_counter() - started) * 1000
            sys.stderr.write(f"Audited {count} package{'' if count == 1 else 's'} "
                             f"in {took:.2f}ms\n")
        return 0
    ctx.debug(f"{os.path.relpath(env_dir)} is stale: {reason}")
    report = sync_project(root, env_dir, sel, ctx, locked=args.locked)
    if not ctx.quiet:
        sys.stderr.write(summary(report) + "\n")
        ctx.debug(f"sync took {(time.perf_counter() - started) * 1000:.0f} ms in all")
    return 0


def direct(root: str, env_dir: str, sel: Selection, *, quiet: bool, locked: bool,
           discovered: bool, always_summary: bool) -> int:
    """A stale ``sync`` (or the sync before ``run``) called by :mod:`ghostenv.entry`, whose
    hand parser already understood every argument: no argparse, no parser tree for the
    other subcommands. Errors are reported as :mod:`ghostenv.cli.main` reports them."""
    from ghostenv.cli.output import Context
    from ghostenv.errors import EXIT_INTERRUPTED, GhostenvError, exit_code_for, from_os_error
    from ghostenv.paths import user_cache_dir

    ctx = Context(verbosity=0, quiet=quiet, color=os.environ.get("GHOSTENV_COLOR", "auto"),
                  cache_dir=user_cache_dir(),
                  offline=os.environ.get("GHOSTENV_OFFLINE", "") not in ("", "0"))
    try:
        if discovered:
            workspace = _enclosing_workspace(Path(root))
            if workspace is not None:
                from ghostenv.errors import ProjectError

                raise ProjectError(f"{root} is a member of the workspace at {workspace}, whose "
                                   "uv.lock and environment it shares; syncing a member alone "
                                   "is not supported yet",
                                   hint=f"run `ghostenv sync --project {workspace}`")
        report = sync_project(Path(root), Path(env_dir), sel, ctx, locked=locked)
    except KeyboardInterrupt:
        ctx.error("interrupted", hint=None)
        return EXIT_INTERRUPTED
    except GhostenvError as exc:
        ctx.error(exc.message, exc.hint)
        return exit_code_for(exc)
    except OSError as exc:
        err = from_os_error(exc, action="running `ghostenv sync`")
        ctx.error(err.message, err.hint)
        return exit_code_for(err)
    except Exception as exc:  # the CLI's one-line rule: no traceback (GHOSTENV_NO_GATE=1 -vv)
        ctx.error(f"internal error in `ghostenv sync`: {type(exc).__name__}: {exc}",
                  hint="run again with GHOSTENV_NO_GATE=1 and -vv for the traceback")
        return 1
    if not quiet and (always_summary or report.installed or report.removed):
        sys.stderr.write(summary(report) + "\n")
    return 0


def sync_project(root: Path, env_dir: Path, sel: Selection, ctx: Context, *,
                 locked: bool) -> SyncReport:
    """Lock if needed, sync, record the gate (shared by ``sync`` and ``run``)."""
    from ghostenv.cli.progress import Progress
    from ghostenv.workflow.sync import sync_project as do_sync

    display = Progress(ctx.stderr, enabled=None if not ctx.quiet and not ctx.verbosity else False,
                       log=ctx.debug if ctx.verbosity else None)
    display.phase("Preparing")
    try:
        report = do_sync(root, env_dir, sel, cache_dir=ctx.cache_dir, offline=ctx.offline,
                         locked=locked, progress=display)
    finally:
        display.close()
    if report.recreated is not None:
        ctx.warn(f"recreated {env_dir}: {report.recreated}")
    if report.locked is not None:
        ctx.info(report.locked)
    for name in report.removed:
        ctx.debug(f" - {name}")
    for name in report.installed:
        ctx.debug(f" + {name}")
    for warning in report.warnings:
        ctx.warn(warning)
    if report.timings:
        ctx.debug("timings: " + ", ".join(f"{name} {ms:.1f} ms" for name, ms in report.timings),
                  2)
    return report
