"""``ghostenv ghost REV [--project DIR] [-p PY] [--group G] [--extra E] [-- CMD ...]``.

The environment of any commit: prints the path of the environment that
``REV``'s uv.lock describes (default groups, like ``sync``), or runs
``CMD`` in it (in place of ghostenv: the exit code is the command's). The
worktree is never read or written, so ``git bisect run ghostenv ghost HEAD --
pytest -x`` tests each bisected commit in its own locked environment; during a
bisect, a commit whose environment cannot be made exits 125 (git skips it)
rather than being called bad.

:func:`fast` is the stdlib-only path for an environment made before (one
``git rev-parse`` and a file read); ``ghostenv.entry`` may call it before
argparse is built. Everything else goes through :func:`run`.
"""

from __future__ import annotations

import os
import sys

# Kept to os/sys at import time: :func:`fast` runs before argparse exists.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from ghostenv.cli.output import Context
    from ghostenv.workflow.ghost import Selection


#: ``git bisect run`` reads 125 as "cannot test this commit": skip it.
BISECT_SKIP = 125


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import argparse
    from pathlib import Path

    parser.add_argument("rev", metavar="REV", help="git revision: HEAD, a branch, tag or sha")
    parser.add_argument("--project", type=Path, default=None, metavar="DIR",
                        help="project directory inside the git repository (default: .)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter (default: what the lock's requires-python selects)")
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


def _finish(env: str | os.PathLike[str], command: list[str]) -> int:
    if not command:
        sys.stdout.write(f"{os.fspath(env)}\n")
        return 0
    from ghostenv.workflow.ghost import exec_in

    return exec_in(env, command)


def fast(argv: list[str]) -> int | None:
    """Answer ``ghost`` from the blob index without argparse; None = take the slow path.

    Understands ``REV [options] [-- CMD...]`` (options on either side of
    REV); anything else, or a miss, returns None and the full CLI handles it.
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
    env = lookup(options.get("project", ["."])[-1], options["rev"][0],
                 os.path.expanduser(cache_dir), options.get("python", [None])[-1],
                 _selection(options))
    if env is None:
        return None
    return _finish(env, command)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from pathlib import Path

    from ghostenv.errors import GhostenvError, UsageError
    from ghostenv.workflow.ghost import lookup, materialize

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
    project = Path(options.get("project", [str(args.project or ".")])[-1])
    python = options.get("python", [args.python])[-1]
    selection = _selection(options)
    env: str | Path | None = lookup(project, args.rev, ctx.cache_dir, python, selection)
    if env is None:
        try:
            env = materialize(project, args.rev, ctx.cache_dir, python=python,
                              selection=selection, progress=ctx.debug)
        except GhostenvError as exc:
            if not command or not _bisecting(project):
                raise
            ctx.error(exc.message, exc.hint)
            ctx.warn(f"no environment for {args.rev}: exit {BISECT_SKIP} so that "
                     "`git bisect run` skips this commit instead of calling it bad")
            return BISECT_SKIP
        ctx.debug(f"ghost environment for {args.rev}: {env}")
    return _finish(env, command)


def _bisecting(project: Path) -> bool:
    """Whether a ``git bisect`` is in progress in the repository holding ``project``."""
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--git-path", "BISECT_START"], cwd=project,
                          capture_output=True, text=True, check=False)
    return proc.returncode == 0 and (project / proc.stdout.strip()).is_file()
