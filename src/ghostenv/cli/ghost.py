"""``ghostenv ghost REV [--project DIR] [-p PY] [-- CMD ...]``: the environment of any commit.

Prints the path of the environment that ``REV``'s uv.lock describes, or runs
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


#: ``git bisect run`` reads 125 as "cannot test this commit": skip it.
BISECT_SKIP = 125


def add_arguments(parser: argparse.ArgumentParser) -> None:
    import argparse
    from pathlib import Path

    parser.add_argument("rev", metavar="REV", help="git revision: HEAD, a branch, tag or sha")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="project directory inside the git repository (default: .)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter (default: what the lock's requires-python selects)")
    parser.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD",
                        help="run CMD in the environment instead of printing its path")


_OPTIONS = {"--project": "project", "-p": "python", "--python": "python"}


def _split(argv: list[str], *, want_rev: bool = False) -> tuple[dict[str, str], list[str]] | None:
    """Options (``--project``, ``-p``/``--python``, maybe REV) and the command after ``--``.

    argparse cannot mix a positional REV, options after it and a trailing
    ``-- CMD``, so the part after REV is read here. None = not understood.
    """
    options: dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return options, argv[i + 1:]
        name, eq, value = arg.partition("=")
        key = _OPTIONS.get(name)
        if key is None:
            if arg.startswith("-"):
                return None
            if want_rev and "rev" not in options:
                options["rev"] = arg
                i += 1
                continue
            return options, argv[i:]  # argparse may have eaten the `--` before CMD
        if not eq:
            if i + 1 >= len(argv):
                return None
            value = argv[i + 1]
            i += 1
        options[key] = value
        i += 1
    return options, []


def _finish(env: str | os.PathLike[str], command: list[str]) -> int:
    if not command:
        sys.stdout.write(f"{os.fspath(env)}\n")
        return 0
    from ghostenv.workflow.ghost import exec_in

    return exec_in(env, command)


def fast(argv: list[str]) -> int | None:
    """Answer ``ghost`` from the blob index without argparse; None = take the slow path.

    Understands only ``REV [--project DIR] [-p PY] [-- CMD...]`` (options on
    either side of REV); anything else, or a miss, returns None and the full
    CLI handles it.
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
    env = lookup(options.get("project", "."), options["rev"], os.path.expanduser(cache_dir),
                 options.get("python"))
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
                         hint="usage: ghostenv ghost REV [--project DIR] [-p PY] [-- CMD ...]")
    options, command = parsed
    project = Path(options["project"]) if "project" in options else args.project
    python = options.get("python", args.python)
    env: str | Path | None = lookup(project, args.rev, ctx.cache_dir, python)
    if env is None:
        try:
            env = materialize(project, args.rev, ctx.cache_dir, python=python,
                              progress=ctx.debug)
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
