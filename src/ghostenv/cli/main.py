"""Entry point: global options, the subcommand table, and the error-to-exit mapping.

Start-up cost is part of the design. Only the chosen subcommand's module is
imported (to add its arguments and run it); ``--version`` answers before
argparse is even built. Subcommand modules keep heavy imports (httpx, pluggy,
packaging, the resolver) inside their ``run`` functions.

A subcommand module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace, ctx: Context) -> int: ...
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ghostenv import __version__
from ghostenv.cli.output import Context
from ghostenv.errors import EXIT_INTERRUPTED, EXIT_USAGE, GhostenvError, exit_code_for

if TYPE_CHECKING:
    from ghostenv.plugins.spec import Command

#: name -> (module, one-line help). Add a line when a capability lands.
COMMANDS: dict[str, tuple[str, str]] = {
    "cache": ("ghostenv.cli.cache", "inspect, verify or clean the content-addressed store"),
    "resolve": ("ghostenv.cli.resolve", "resolve requirements against an index and print pins"),
    "peek": ("ghostenv.cli.peek", "newest version, requires-python and dependencies of packages"),
    "cp": ("ghostenv.cli.cp", "clone a file or tree with a link mode and report what it cost"),
    "python": ("ghostenv.cli.python", "list interpreters or find the one a request selects"),
    "venv": ("ghostenv.cli.venv", "create a virtual environment (no subprocess, a few ms)"),
    "install": ("ghostenv.cli.install", "pip install into an environment, through the store"),
    "wheel-meta": ("ghostenv.cli.wheel_meta", "show a wheel's METADATA, reading few bytes"),
    "export": ("ghostenv.cli.export", "print uv.lock as a hash-pinned requirements.txt"),
    "lock": ("ghostenv.cli.lock", "write or check uv.lock (universal, in uv's format)"),
    "ci": ("ghostenv.cli.ci", "CI helpers: an offline cache key for the store (cache-key)"),
    "sync": ("ghostenv.cli.sync", "make the project's .venv match uv.lock (no-op: a few stats)"),
    "run": ("ghostenv.cli.run", "run a command in the project's environment (synced first)"),
    "status": ("ghostenv.cli.status", "print `fresh` or why the project's environment is stale"),
    "build": ("ghostenv.cli.build", "build a wheel, editable wheel or sdist (PEP 517/660, cached)"),
    "ghost": ("ghostenv.cli.ghost", "the locked environment of a git revision: path or run CMD"),
    "hooks": ("ghostenv.cli.hooks", "install git hooks that resync .venv after checkout/merge"),
}


class CommandModule(Protocol):
    """What a subcommand module provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, ctx: Context) -> int: ...


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors follow ghostenv's ``error:``/``hint:`` format."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\nhint: see `{self.prog} --help`\n")
        raise SystemExit(EXIT_USAGE)


def _add_global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global options, accepted before or after the subcommand name."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS if suppress else 0,
        help="more output; repeat for more (-vv shows tracebacks)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=argparse.SUPPRESS if suppress else False,
        help="only print results and errors",
    )
    parser.add_argument(
        "--color", choices=("auto", "always", "never"), default=default,
        help="colour output (default: auto; honours NO_COLOR and FORCE_COLOR)",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=default, metavar="DIR",
        help="cache and store location (default: GHOSTENV_CACHE_DIR or the user cache dir)",
    )
    parser.add_argument(
        "--offline", action="store_true", default=argparse.SUPPRESS if suppress else False,
        help="never touch the network; use only what is cached",
    )


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The first argument that names a subcommand (global options may precede it)."""
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
            continue
        if arg in ("--color", "--cache-dir"):
            skip_next = True
            continue
        if arg.startswith("-"):
            continue
        return arg if arg in COMMANDS else None
    return None


def _first_word(argv: Sequence[str]) -> str | None:
    """The first argument that is not a global option or its value."""
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in ("--color", "--cache-dir"):
            skip_next = True
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg
    return None


def _plugin_command(argv: Sequence[str]) -> Command | None:
    """A subcommand from a plugin, consulted only for names ``COMMANDS`` does not have."""
    name = _first_word(argv)
    if name is None or name in COMMANDS:
        return None
    from ghostenv.plugins import command

    return command(name)


def _load(name: str) -> CommandModule:
    import importlib

    module_name = COMMANDS[name][0]
    return importlib.import_module(module_name)


def build_parser(argv: Sequence[str], extra: Command | None = None) -> argparse.ArgumentParser:
    """Build the parser; only the subcommand named in ``argv`` (or ``extra``) gets arguments."""
    parser = _Parser(
        prog="ghostenv",
        description="Instant, incremental Python environments.",
        epilog="`ghostenv plugins` lists the commands and link modes plugins add.",
    )
    parser.add_argument("--version", action="version", version=f"ghostenv {__version__}")
    _add_global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chosen = _chosen_command(argv)
    for name, (_module, help_text) in COMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        _add_global_options(child, suppress=True)
        if name == chosen:
            _load(name).add_arguments(child)
    if extra is not None:
        child = sub.add_parser(extra.name, help=extra.help, description=extra.help)
        _add_global_options(child, suppress=True)
        extra.add_arguments(child)
    return parser


def _context(args: argparse.Namespace) -> Context:
    from ghostenv.paths import user_cache_dir

    cache_dir = args.cache_dir or user_cache_dir()
    offline = bool(args.offline) or os.environ.get("GHOSTENV_OFFLINE", "") not in ("", "0")
    return Context(
        verbosity=args.verbose,
        quiet=args.quiet,
        color=args.color or os.environ.get("GHOSTENV_COLOR", "auto"),
        cache_dir=Path(cache_dir),
        offline=offline,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run ghostenv with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        sys.stdout.write(f"ghostenv {__version__}\n")
        return 0
    try:
        extra = _plugin_command(argv)
    except GhostenvError as exc:
        sys.stderr.write(f"error: {exc.message}\n" + (f"hint: {exc.hint}\n" if exc.hint else ""))
        return exit_code_for(exc)
    parser = build_parser(argv, extra)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    ctx = _context(args)
    try:
        if extra is not None:
            return extra.run(args, ctx)
        return _load(args.command).run(args, ctx)
    except KeyboardInterrupt:
        ctx.error("interrupted", hint=None)
        return EXIT_INTERRUPTED
    except GhostenvError as exc:
        if ctx.verbosity >= 2:
            import traceback

            traceback.print_exc()
        ctx.error(exc.message, exc.hint)
        return exit_code_for(exc)
    except OSError as exc:
        from ghostenv.errors import from_os_error

        if ctx.verbosity >= 2:
            import traceback

            traceback.print_exc()
        err = from_os_error(exc, action=f"running `ghostenv {args.command}`")
        ctx.error(err.message, err.hint)
        return exit_code_for(err)
    except Exception as exc:
        if ctx.verbosity >= 2:
            import traceback

            traceback.print_exc()
        ctx.error(
            f"internal error in `ghostenv {args.command}`: {type(exc).__name__}: {exc}",
            hint="this is a bug in ghostenv; run again with -vv for the traceback and report it",
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
