"""``ghostenv ghost REV [--project DIR] [-p PY] [--group G] [--extra E] [-- CMD ...]``.

The environment of any commit: prints the path of the environment that
``REV``'s uv.lock describes (default groups, like ``sync``), or runs
``CMD`` in it (in place of ghostenv: the exit code is the command's). The
worktree is never read or written, so ``git bisect run ghostenv ghost HEAD --
pytest -x`` tests each bisected commit in its own locked environment; during a
bisect, a commit whose environment cannot be made exits 125 (git skips it)
rather than being called bad.

:func:`fast` is what ``ghostenv.entry`` calls before argparse is built: an
environment made before costs one ``git rev-parse`` and a file read (os/sys
only), a new lock is materialized there too. ``--list``, ``--prune DAYS``,
``-v`` and anything it does not parse go through :func:`run`.
"""

from __future__ import annotations

import os
import sys

# Kept to os/sys at import time: :func:`fast` runs before argparse exists.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from pathlib import Path

    from ghostenv.cli.output import Context
    from ghostenv.workflow.ghost import Selection


#: ``git bisect run`` reads 125 as "cannot test this commit": skip it.
BISECT_SKIP = 125


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import argparse
    from pathlib import Path

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  ghostenv ghost HEAD~5                    print the env of HEAD~5's uv.lock\n"
        "  ghostenv ghost v1.2 -- python -m pytest  run a command in it (exit code passes)\n"
        "  git bisect run ghostenv ghost HEAD -- pytest -x\n"
        "  ghostenv ghost --prune 30                drop envs unused for 30 days")
    parser.add_argument("rev", metavar="REV", nargs="?",
                        help="git revision: HEAD, a branch, tag or sha")
    parser.add_argument("--list", action="store_true",
                        help="list the cached ghost environments (last use, first revision)")
    parser.add_argument("--prune", type=float, metavar="DAYS", default=None,
                        help="remove ghost environments not used for DAYS days (0: all)")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="project directory inside the git repository (default: the "
                             "nearest directory at or above . with a pyproject.toml)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter (default: GHOSTENV_PYTHON / UV_PYTHON, else what the "
                             "lock's requires-python selects)")
    parser.add_argument("--group", action="append", default=[], metavar="G",
                        help="include a dependency group (repeatable; `dev` is on by default)")
    parser.add_argument("--all-groups", action="store_true", help="include every group")
    parser.add_argument("--no-dev", action="store_true", help="leave out the `dev` group")
    parser.add_argument("--extra", action="append", default=[], metavar="E",
                        help="include an optional-dependency extra (repeatable)")
    parser.add_argument("--all-extras", action="store_true", help="include every extra")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD",
                        help="run CMD in the environment instead of printing its path")


#: option -> (key, takes a value); the same options argparse declares above.
_OPTIONS = {
    "--project": ("project", True), "-p": ("python", True), "--python": ("python", True),
    "--group": ("group", True), "--extra": ("extra", True), "--no-dev": ("no_dev", False),
    "--all-groups": ("all_groups", False), "--all-extras": ("all_extras", False),
}


def _split(argv: list[str], *, want_rev: bool = False
           ) -> tuple[dict[str, list[str]], list[str]] | None:
    """Options (and REV when ``want_rev``) before the command, and the command.

    argparse cannot mix a positional REV, options after it and a trailing
    ``-- CMD``, so the part after REV is read here (and all of it on the fast
    path). Values are lists (``--group`` repeats); flags hold ``[""]``.
    None = something not understood: the caller falls back or reports it.
    """
    options: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return options, argv[i + 1:]
        name, eq, value = arg.partition("=")
        spec = _OPTIONS.get(name)
        if spec is None:
            if arg.startswith("-"):
                return None
            if want_rev and "rev" not in options:
                options["rev"] = [arg]
                i += 1
                continue
            return options, argv[i:]  # argparse may have eaten the `--` before CMD
        key, takes_value = spec
        if takes_value and not eq:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
            i += 1
        elif not takes_value:
            if eq:
                return None
            value = ""
        options.setdefault(key, []).append(value)
        i += 1
    return options, []


def _selection(options: dict[str, list[str]]) -> Selection:
    from ghostenv.workflow.ghost import Selection

    return Selection(options.get("group", ()), options.get("extra", ()),
                     no_dev="no_dev" in options, all_groups="all_groups" in options,
                     all_extras="all_extras" in options)


def _python_from_env() -> str | None:
    """``GHOSTENV_PYTHON`` / ``UV_PYTHON`` act as ``--python`` (as for sync and run)."""
    return os.environ.get("GHOSTENV_PYTHON") or os.environ.get("UV_PYTHON") or None


def _default_project() -> str:
    """The nearest directory at or above cwd with a pyproject.toml (as ``sync``), else cwd."""
    from ghostenv.workflow.gate import find_project

    return find_project() or "."


def _finish(env: str | os.PathLike[str], command: list[str]) -> int:
    if not command:
        sys.stdout.write(f"{os.fspath(env)}\n")
        return 0
    from ghostenv.workflow.ghost import exec_in

    return exec_in(env, command)


def fast(argv: list[str]) -> int | None:
    """``ghost`` without argparse; None = let the full CLI handle it.

    Understands ``REV [options] [-- CMD...]`` (options on either side of
    REV). A lock seen before is answered from the blob index with ``os``
    alone; a new one is materialized right here too (argparse and the
    subcommand table would only add start-up time), with the CLI's
    ``error:``/``hint:`` output and exit codes.
    """
    from ghostenv.workflow.ghost import lookup

    parsed = _split(argv, want_rev=True)
    if parsed is None or "rev" not in parsed[0]:
        return None
    options, command = parsed
    cache_dir = os.environ.get("GHOSTENV_CACHE_DIR")
    if not cache_dir:
        from ghostenv.paths import user_cache_dir

        cache_dir = os.fspath(user_cache_dir())
    project = options.get("project", [_default_project()])[-1]
    rev = options["rev"][0]
    python = options.get("python", [_python_from_env()])[-1]
    selection = _selection(options)
    env = lookup(project, rev, os.path.expanduser(cache_dir), python, selection)
    if env is not None:
        return _finish(env, command)
    from pathlib import Path

    from ghostenv.errors import GhostenvError, exit_code_for

    def error(message: str, hint: str | None) -> None:
        sys.stderr.write(f"error: {message}\n" + (f"hint: {hint}\n" if hint else ""))

    def warn(text: str) -> None:
        sys.stderr.write(f"warning: {text}\n")

    try:
        return _make_and_finish(Path(project), rev, Path(os.path.expanduser(cache_dir)),
                                python=python, selection=selection, command=command,
                                error=error, warn=warn, progress=lambda _text: None)
    except KeyboardInterrupt:
        error("interrupted", None)
        return exit_code_for(KeyboardInterrupt())
    except GhostenvError as exc:
        error(exc.message, exc.hint)
        return exit_code_for(exc)
    except Exception:
        return None  # the full CLI runs it again and reports it (traceback with -vv)


def _make_and_finish(project: Path, rev: str, cache_dir: Path, *, python: str | None,
                     selection: Selection, command: list[str],
                     error: Callable[[str, str | None], None], warn: Callable[[str], None],
                     progress: Callable[[str], None]) -> int:
    """Materialize ``rev``'s environment, then print it or run ``command`` in it."""
    from ghostenv.errors import GhostenvError
    from ghostenv.workflow.ghost import materialize

    try:
        env = materialize(project, rev, cache_dir, python=python, selection=selection,
                          progress=progress)
    except GhostenvError as exc:
        if not command or not _bisecting(project):
            raise
        error(exc.message, exc.hint)
        warn(f"no environment for {rev}: exit {BISECT_SKIP} so that "
             "`git bisect run` skips this commit instead of calling it bad")
        return BISECT_SKIP
    progress(f"ghost environment for {rev}: {env}")
    return _finish(env, command)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from ghostenv.errors import UsageError
    from ghostenv.workflow.ghost import lookup

    if args.list or args.prune is not None:
        return _manage(args, ctx)
    if args.rev is None:
        raise UsageError("ghostenv ghost needs a revision",
                         hint="e.g. `ghostenv ghost HEAD~3`, or --list / --prune DAYS")
    parsed = _split(list(args.cmd))
    if parsed is None:
        raise UsageError(f"cannot read {' '.join(args.cmd)!r}",
                         hint="usage: ghostenv ghost REV [--project DIR] [-p PY] [--group G] "
                              "[--extra E] [-- CMD ...]")
    options, command = parsed
    # options given before REV (argparse) and after it (_split) both count
    for key in ("group", "extra"):
        options[key] = [*getattr(args, key), *options.get(key, [])]
    for key in ("no_dev", "all_groups", "all_extras"):
        if getattr(args, key):
            options.setdefault(key, [""])
    project = Path(options.get("project", [str(args.project or _default_project())])[-1])
    python = options.get("python", [args.python or _python_from_env()])[-1]
    selection = _selection(options)
    env = lookup(project, args.rev, ctx.cache_dir, python, selection)
    if env is not None:
        return _finish(env, command)
    return _make_and_finish(project, args.rev, ctx.cache_dir, python=python,
                            selection=selection, command=command,
                            error=ctx.error, warn=ctx.warn, progress=ctx.debug)


def _manage(args: argparse.Namespace, ctx: Context) -> int:
    """``--list`` and ``--prune DAYS``."""
    import time

    from ghostenv.workflow.ghost import environments, prune

    if args.prune is not None:
        removed = prune(ctx.cache_dir, args.prune * 86400)
        noun = "environment" if len(removed) == 1 else "environments"
        ctx.info(f"Removed {len(removed)} ghost {noun}"
                 + (" (run `ghostenv cache prune` to drop wheels nothing uses now)"
                    if removed else ""))
    if args.list:
        now = time.time()
        for env, used, rev in environments(ctx.cache_dir):
            ctx.echo(f"{env}\t{(now - used) / 86400:.1f} days ago\t{rev}")
    return 0


def _bisecting(project: Path) -> bool:
    """Whether a ``git bisect`` is in progress in the repository holding ``project``."""
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--git-path", "BISECT_START"], cwd=project,
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and (project / proc.stdout.strip()).is_file()
