"""Run a command inside one or more environments by replacing the ghostenv process.

``os.execvpe`` rather than a child process: signals (Ctrl-C, SIGTERM) reach the
command directly and its exit status is the process's, with nothing in between
to forward or translate them. Stdlib-only: the gate's fast path calls it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: uv's exit status when the command cannot be started.
EXIT_SPAWN = 2


def command_environment(env_dirs: Sequence[str], base: dict[str, str] | None = None
                        ) -> dict[str, str]:
    """``os.environ`` with each environment's ``bin`` first on PATH (in the given order)
    and ``VIRTUAL_ENV`` naming the first one; ``PYTHONHOME`` would send the
    interpreter to another standard library, so it is dropped."""
    env = dict(os.environ if base is None else base)
    bins = [os.path.join(os.path.abspath(d), "bin") for d in env_dirs]
    old = env.get("PATH")
    env["PATH"] = os.pathsep.join(bins + ([old] if old else []))
    env["VIRTUAL_ENV"] = os.path.abspath(env_dirs[0])
    env.pop("PYTHONHOME", None)
    return env


def exec_in(env_dirs: Sequence[str], cmdline: Sequence[str]) -> int:
    """Replace this process with ``cmdline`` (looked up on the new PATH).

    Returns only when the command cannot be started: the exit status to use
    after printing why.
    """
    env = command_environment(env_dirs)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(cmdline[0], list(cmdline), env)
    except FileNotFoundError:
        problem = "no such command"
    except PermissionError:
        problem = "permission denied"
    except OSError as exc:
        problem = exc.strerror or str(exc)
    sys.stderr.write(f"error: failed to spawn `{cmdline[0]}`: {problem}\n"
                     f"hint: looked in {os.path.join(env_dirs[0], 'bin')} and on PATH\n")
    return EXIT_SPAWN
