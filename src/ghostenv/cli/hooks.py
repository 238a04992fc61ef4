"""``ghostenv hooks install|uninstall|show``: git hooks that keep ``.venv`` in step with uv.lock.

``post-checkout``, ``post-merge`` and ``post-rewrite`` run ``ghostenv sync
--frozen`` when the operation changed ``uv.lock`` or ``pyproject.toml`` (a
``git diff --quiet`` in the shell, so an unrelated checkout costs no Python
start). The scripts are generated here; ``hooks/`` in the source tree holds
the same text for people who copy hooks by hand (a test keeps them equal).

Existing hooks are never clobbered. A hook that is already there (say,
pre-commit's) is renamed ``NAME.pre-ghostenv`` and run first by ghostenv's
script with the same arguments and stdin; ``uninstall`` puts it back. When
that name is taken too, ``install`` refuses and says what to move. The hook
directory is git's own answer (``git rev-parse --git-path hooks``), so
``core.hooksPath`` and worktrees are honoured.

A failing sync prints a warning and exits 0: a checkout has already happened
by the time a post-checkout hook runs, and a non-zero status would only break
``git bisect`` and scripts without undoing anything.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context

#: The hooks ghostenv provides, in the order they are listed.
HOOKS = ("post-checkout", "post-merge", "post-rewrite")
#: The line that identifies a script written by ghostenv (so reinstall and uninstall know it).
MARK = "# ghostenv-managed-hook v1"
#: Suffix a pre-existing hook is renamed to while ghostenv's script chains it.
CHAINED = ".pre-ghostenv"
#: How the scripts in ``hooks/`` call ghostenv: whatever ``ghostenv`` is on PATH.
PATH_COMMAND = "ghostenv"

_WHEN = {
    # post-checkout PREV NEW FLAG: FLAG 1 = branch checkout, 0 = file checkout
    "post-checkout": '[ "$3" = 1 ] || exit 0\nchanged "$1" "$2" || exit 0\n',
    # post-merge SQUASH: ORIG_HEAD is the commit before the merge
    "post-merge": 'changed ORIG_HEAD HEAD || exit 0\n',
    # post-rewrite amend|rebase, rewritten pairs on stdin: the gate makes a no-op sync cheap
    "post-rewrite": "",
}


def script(hook: str, command: str = PATH_COMMAND, project: str = ".") -> str:
    """The text of ghostenv's ``hook`` script calling ``command`` on ``project``."""
    if hook not in _WHEN:
        raise UsageError(f"unknown hook {hook!r}", hint=f"one of: {', '.join(HOOKS)}")
    return f"""#!/bin/sh
{MARK}
# {hook}: make the project's environment match uv.lock again when git changed it.
# Written by `ghostenv hooks install`; `ghostenv hooks uninstall` removes it and
# restores the hook that was here before (kept meanwhile as {hook}{CHAINED}).
# Set GHOSTENV to the command to run instead (e.g. GHOSTENV="python -m ghostenv").
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/{hook}{CHAINED}" ]; then
    "$hook_dir/{hook}{CHAINED}" "$@" || exit $?
fi
project=${{GHOSTENV_PROJECT:-{shlex.quote(project)}}}
[ -f "$project/uv.lock" ] || exit 0
changed() {{
    ! git diff --quiet "$1" "$2" -- "$project/uv.lock" "$project/pyproject.toml" 2>/dev/null
}}
{_WHEN[hook]}if [ -n "$GHOSTENV" ]; then
    $GHOSTENV sync --frozen --project "$project"
else
    {command} sync --frozen --project "$project"
fi
status=$?
if [ "$status" -ne 0 ]; then
    echo "ghostenv: {hook}: sync failed (exit $status); run \\`ghostenv sync\\` to retry" >&2
fi
exit 0
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("install", "uninstall", "show", "sync"),
                        help="install or remove the hooks, print a hook script, or `sync`: "
                             "what a hook runs (`ghostenv sync --frozen`, nothing without uv.lock)")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="project directory (default: .); its repository gets the hooks")
    parser.add_argument("--hook", action="append", choices=HOOKS, default=[], dest="hooks",
                        help="only this hook (repeatable; default: all three)")
    parser.add_argument("--use-path", action="store_true",
                        help="call `ghostenv` from PATH instead of this interpreter's ghostenv")


def hooks_dir(project: Path) -> Path:
    """Where git runs hooks for the repository holding ``project``."""
    import subprocess

    try:
        proc = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], cwd=project,
                              capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UsageError("`git` was not found on PATH") from None
    except NotADirectoryError:
        raise UsageError(f"{project}: not a directory") from None
    if proc.returncode != 0:
        raise UsageError(f"{project}: not inside a git repository",
                         hint="run `git init` first, or pass --project")
    return (project / proc.stdout.strip()).resolve()


def _project_relative(project: Path) -> str:
    """``project`` relative to the repository top (hooks run there)."""
    import subprocess

    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=project,
                          capture_output=True, text=True, check=False)
    top = Path(proc.stdout.strip()) if proc.returncode == 0 else project
    rel = os.path.relpath(project.resolve(), top.resolve())
    return "." if rel == "." else rel


def is_ours(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            return MARK in handle.read(400)
    except OSError:
        return False


def install(directory: Path, hooks: tuple[str, ...], command: str, project: str) -> list[str]:
    """Write the hooks; returns one line per hook saying what happened."""
    from ghostenv.fsutil import write_atomic

    # check every hook first, so a refusal leaves nothing half-installed
    for hook in hooks:
        target, chained = directory / hook, directory / f"{hook}{CHAINED}"
        if target.exists() and not is_ours(target) and chained.exists():
            raise UsageError(
                f"{target} exists and so does {chained.name}; refusing to overwrite either",
                hint=f"merge them by hand or move {chained.name} away, then run "
                     "`ghostenv hooks install` again")
    done = []
    directory.mkdir(parents=True, exist_ok=True)
    for hook in hooks:
        target, chained = directory / hook, directory / f"{hook}{CHAINED}"
        note = "installed"
        if os.path.lexists(target) and not is_ours(target):
            os.replace(target, chained)
            note = f"installed (runs the existing hook first, now {chained.name})"
        elif is_ours(target):
            note = "updated"
        write_atomic(target, script(hook, command, project).encode())
        target.chmod(0o755)
        done.append(f"{hook}: {note}")
    return done


def uninstall(directory: Path, hooks: tuple[str, ...]) -> list[str]:
    """Remove ghostenv's hooks and restore the chained originals."""
    done = []
    for hook in hooks:
        target, chained = directory / hook, directory / f"{hook}{CHAINED}"
        if not is_ours(target):
            if os.path.lexists(target):
                done.append(f"{hook}: left alone (not written by ghostenv)")
            continue
        if os.path.lexists(chained):
            os.replace(chained, target)
            done.append(f"{hook}: removed; restored the previous hook")
        else:
            target.unlink()
            done.append(f"{hook}: removed")
    return done


def _sync(project: Path, ctx: Context) -> int:
    """``ghostenv sync --frozen`` for a hook: a checkout without uv.lock is not an error.

    pre-commit's post-checkout/post-merge/post-rewrite stages run this (the
    ``ghostenv-sync`` hook); a branch from before the project had a lock must
    not make every checkout of it fail.
    """
    if not (project / "uv.lock").is_file() or not (project / "pyproject.toml").is_file():
        ctx.debug(f"{project}: no uv.lock/pyproject.toml here, nothing to sync")
        return 0
    from ghostenv.entry import main

    return main(["sync", "--frozen", "--project", str(project)])


def run(args: argparse.Namespace, ctx: Context) -> int:
    hooks = tuple(dict.fromkeys(args.hooks)) or HOOKS
    if args.action == "sync":
        return _sync(args.project, ctx)
    if args.action == "show":
        for hook in hooks:
            ctx.echo(script(hook).rstrip("\n"))
        return 0
    project: Path = args.project
    directory = hooks_dir(project)
    if args.action == "install":
        command = PATH_COMMAND if args.use_path else \
            f"{shlex.quote(sys.executable)} -m ghostenv"
        lines = install(directory, hooks, command, _project_relative(project))
    else:
        lines = uninstall(directory, hooks)
    for line in lines:
        ctx.info(line)
    if not lines:
        ctx.info("no ghostenv hooks were installed")
    return 0
