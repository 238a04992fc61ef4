"""Calling a PEP 517 backend through ``pyproject_hooks``, with readable failures.

``pyproject_hooks`` runs each hook in a fresh subprocess of the build
environment's interpreter. The runner here streams that process's output to
the log line by line (``ghostenv -v`` shows everything the backend says) and
keeps the tail, so a failure becomes one :class:`BuildError` naming the
package, the backend and the hook, with the backend's last lines as the hint.
"""

from __future__ import annotations

import os
import subprocess
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ghostenv.errors import BuildError

#: How many of the backend's last output lines a failure shows.
TAIL = 12
#: Environment variables that would leak the caller's environment into the isolated build.
_SCRUB = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PIP_REQUIRE_VIRTUALENV",
          "__PYVENV_LAUNCHER__")


class Runner:
    """A ``pyproject_hooks`` subprocess runner bound to one build environment."""

    def __init__(self, env_root: Path, scripts: Path, log: Callable[[str], None]) -> None:
        self.env_root = env_root
        self.scripts = scripts
        self.log = log
        self.tail: deque[str] = deque(maxlen=TAIL)

    def __call__(self, cmd: Sequence[str], cwd: str | None = None,
                 extra_environ: Mapping[str, str] | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update(extra_environ or {})
        env["PATH"] = os.pathsep.join([str(self.scripts), env.get("PATH", os.defpath)])
        env["VIRTUAL_ENV"] = str(self.env_root)
        env["PYTHONNOUSERSITE"] = "1"
        self.tail.clear()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert proc.stdout is not None
        with proc.stdout:
            for raw in proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip()
                self.tail.append(line)
                self.log(line)
        code = proc.wait()
        if code != 0:
            raise subprocess.CalledProcessError(code, list(cmd))


class MissingHook(Exception):
    """Raised by :func:`call_hook` with ``missing_ok`` when the backend lacks the hook."""


def call_hook(package: str, backend: str, hook: str, runner: Runner,
              action: Callable[[], Any], *, missing_ok: bool = False) -> Any:
    """Run one hook via ``action``; turn every backend failure into a BuildError.

    With ``missing_ok`` a hook the backend does not define raises
    :class:`MissingHook` instead, for callers that have a fallback.
    """
    import pyproject_hooks

    where = f"{package}: build backend `{backend}`"
    try:
        return action()
    except pyproject_hooks.BackendUnavailable as exc:
        detail = [line for line in exc.traceback.strip().splitlines() if line.strip()]
        raise BuildError(f"{where} cannot be imported"
                         + (f" ({detail[-1]})" if detail else ""),
                         hint="check [build-system] requires and build-backend in "
                              "pyproject.toml") from None
    except pyproject_hooks.HookMissing as exc:
        if missing_ok:
            raise MissingHook(exc.hook_name) from None
        missing = ("the backend does not support PEP 660 editable builds; build a regular wheel"
                   if "editable" in hook else "the backend does not implement this hook")
        raise BuildError(f"{where} has no hook {exc.hook_name}", hint=missing) from None
    except subprocess.CalledProcessError as exc:
        lines = [line for line in runner.tail if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        hint = ("last lines of the backend's output (-v shows all):\n"
                + "\n".join(f"    {line}" for line in lines)) if lines else None
        raise BuildError(f"{where} failed in {hook} (exit {exc.returncode}): {last}",
                         hint=hint) from None


__all__ = ["MissingHook", "Runner", "call_hook"]
