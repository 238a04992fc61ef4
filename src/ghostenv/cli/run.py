"""``ghostenv run [--with REQ]... CMD ARGS...``: run a command in the project's environment.

Usually answered in :mod:`ghostenv.entry`: when the gate says the environment
is fresh the command is exec'd from there. Arriving here means it is stale (so
sync first), or ``--with``/a PEP 723 script asks for an extra environment, or
an option the fast path does not parse was given. The command always replaces
this process (``os.execvpe``): signals and the exit status pass through.
Stdlib-only at import time.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ghostenv.cli.sync import add_selection_arguments

    add_selection_arguments(parser)
    parser.add_argument("--with", dest="with_", action="append", default=[], metavar="REQ",
                        help="also provide REQ, in a cached environment layered on top "
                             "(repeatable)")
    parser.add_argument("--exact", action="store_true",
                        help="remove packages the lock does not list (run is inexact by default)")
    parser.add_argument("--no-sync", action="store_true",
                        help="run in the environment as it is, without syncing it")
    parser.add_argument("cmdline", nargs=argparse.REMAINDER, metavar="CMD ARGS",
                        help="the command and its arguments (a .py file runs with python)")


def _has_script_metadata(path: Path) -> bool:
    try:
        return "# /// script" in path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.cli.sync import selection, summary, sync_project
    from ghostenv.workflow import gate
    from ghostenv.workflow.run import exec_in

    command = list(args.cmdline)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise UsageError("no command to run", hint="e.g. `ghostenv run python -c 'print(1)'`")
    script = Path(command[0]) if command[0].endswith(".py") else None
    if script is not None and script.is_file() and _has_script_metadata(script):
        env = _script_environment(script, args, ctx)
        return exec_in([str(env)], [str(env / "bin" / "python"), *command])

    from ghostenv.cli.sync import project_dir

    # outside any project the command runs as is (or in its --with layer alone)
    root = project_dir(args) if args.project is not None or gate.find_project() else None
    env_dirs: list[str] = []
    if root is not None:
        env_dir = Path(gate.environment_dir(str(root)))
        sel = selection(args, exact=args.exact)
        reason = None if args.no_sync else gate.check(str(root), str(env_dir), sel)
        if reason is not None:
            ctx.debug(f"{os.path.relpath(env_dir)} is stale: {reason}")
            report = sync_project(root, env_dir, sel, ctx, locked=args.locked)
            if not ctx.quiet and (report.installed or report.removed):
                sys.stderr.write(summary(report) + "\n")
        env_dirs.append(str(env_dir))
    if args.with_:
        env_dirs.insert(0, str(_with_environment(args, ctx, env_dirs[0] if env_dirs else None)))
    if not env_dirs:
        from ghostenv.workflow.run import EXIT_SPAWN

        # Outside a project and without --with there is no environment: run as is
        # (a .py file with the interpreter --python or discovery picks).
        if script is not None and script.is_file():
            command = [str(_interpreter(args, ctx, None).path), *command]
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            ctx.error(f"failed to spawn `{command[0]}`: {exc.strerror or exc}", hint=None)
        return EXIT_SPAWN
    if script is not None and script.is_file():
        command = [os.path.join(env_dirs[0], "bin", "python"), *command]
    return exec_in(env_dirs, command)


def _interpreter(args: argparse.Namespace, ctx: Context, base: str | None) -> Interpreter:
    """``--python``, else the project environment's interpreter, else the default one."""
    from ghostenv.discover import find_interpreter

    if args.python is None and base is not None:
        return find_interpreter(os.path.join(base, "bin", "python"), ctx.cache_dir)
    return find_interpreter(args.python, ctx.cache_dir)


def _settings(ctx: Context) -> IndexSettings:
    from ghostenv.resolve.index_source import IndexSettings

    return IndexSettings(
        index_url=os.environ.get("GHOSTENV_INDEX_URL") or os.environ.get("UV_INDEX_URL")
        or "https://pypi.org/simple",
        extra_index_urls=(), find_links=(), cache_dir=ctx.cache_dir, offline=ctx.offline,
        refresh=False, concurrency=50)


def _with_environment(args: argparse.Namespace, ctx: Context, base: str | None) -> Path:
    try:
        from ghostenv.workflow.ephemeral import ephemeral_environment
    except ImportError:
        raise UsageError("--with is not available yet in this ghostenv",
                         hint="install the requirement into the project instead") from None
    return Path(ephemeral_environment(args.with_, interpreter=_interpreter(args, ctx, base),
                                      base=Path(base) if base else None,
                                      settings=_settings(ctx), python_request=args.python,
                                      log=ctx.debug))


def _script_environment(script: Path, args: argparse.Namespace, ctx: Context) -> Path:
    try:
        from ghostenv.workflow.script import script_environment
    except ImportError:
        raise UsageError(f"{script}: PEP 723 scripts are not supported yet in this ghostenv",
                         hint="run it with `python` inside a synced project instead") from None
    interpreter = _interpreter(args, ctx, None) if args.python else None
    return Path(script_environment(script, interpreter=interpreter, settings=_settings(ctx),
                                   python_request=args.python, log=ctx.debug))
