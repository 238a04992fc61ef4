"""The first sync into a session environment nox has just made: the CLI's fast path.

nox recreates a session's environment on every run unless ``-R``, so the
common ``ghostenv.nox.sync`` fills an empty venv that :meth:`GhostenvEnv.create`
wrote a moment before. The general step (:func:`ghostenv.integrate.steps.sync_step`)
does that through the full install path: the lock and project models, the
index settings and the engine's imports, ~50 ms for the ``web`` workload.
``ghostenv sync --frozen`` does the same job with the standard library
(:func:`ghostenv.workflow.frozen.sync`) -- and, for an environment path it made
before from the same inputs, replays the recorded operations
(:mod:`ghostenv.workflow.replay`) -- but only into an environment that does not
exist yet. So, for a *pristine* session environment (created by this run, no
install or sync since, no ``--system-site-packages``):

1. the groups the project does not define are dropped from the request (the general
   step selects nothing for them, the fast path would decline);
2. the environment's ``.ghostenv`` state directory (its event log) is moved aside
   and the empty venv removed;
3. the fast path syncs into the now absent path, for exactly the interpreter
   the venv was made for (its absolute path);
4. the state directory comes back and the sync step's stamp is recorded
   (:func:`~ghostenv.integrate.steps.sync_fingerprint`, what
   :func:`~ghostenv.integrate.steps.sync_step` records), so ``nox --reuse-venv=yes``
   skips the next sync as before.

Whenever the fast path declines (None: a build needed, an unknown group, plugins
installed, anything unusual) or fails, the venv is written again as ``create``
wrote it and the caller runs the general step, which gives its usual answer
or error (the fast path's own error line is shown under ``nox -v`` only).
The venv the fast path writes differs from ``create``'s only in its pyvenv.cfg's
``prompt`` (the project's name) and ``command`` lines -- which the general step
rewrites too (``ghostenv sync``'s command, no prompt).
"""

from __future__ import annotations

import gc
import io
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import EXIT_INTERRUPTED
from ghostenv.integrate.stamp import STATE_DIR, EnvState, installed, normalize
from ghostenv.integrate.steps import StepResult, sync_fingerprint

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter

logger = logging.getLogger("nox")

#: Set to ``0`` to always take the general step (to compare the two, or to rule this out).
SWITCH = "GHOSTENV_NOX_FAST"


def fresh_sync(env: Path, project_dir: Path, interpreter: Interpreter, *,
               groups: Sequence[str], extras: Sequence[str], all_groups: bool,
               all_extras: bool, install_project: bool, prompt: str,
               command: str) -> StepResult | None:
    """Sync a pristine environment by the fast path; None when the caller must do it."""
    if os.environ.get(SWITCH, "") == "0" or os.name != "posix":
        return None
    if not (project_dir / "uv.lock").is_file():
        return None  # the general step names the missing lock
    from ghostenv.paths import user_cache_dir
    from ghostenv.workflow import frozen
    from ghostenv.workflow.gate import Selection

    started = time.perf_counter()
    defined = _groups_defined(project_dir)
    if defined is None:
        return None
    selection = Selection(groups=[g for g in groups if normalize(g) in defined],
                          no_default_groups=True, extras=extras,
                          all_groups=all_groups, all_extras=all_extras,
                          no_install_project=not install_project,
                          python=interpreter.path_str, checked=False, exact=True)
    state_dir = env / STATE_DIR
    parked = env.with_name(f"{env.name}.ghostenv-nox-state")
    shutil.rmtree(parked, ignore_errors=True)
    if state_dir.exists():
        os.rename(state_dir, parked)
    shutil.rmtree(env)
    code: int | None = None
    # nox's heap is large; a full collection triggered by the recipe's or the lock's many
    # small objects walks all of it (~2 ms). Nothing here makes cycles worth collecting.
    collecting = gc.isenabled()
    gc.disable()
    # What the fast path prints (an error line, GHOSTENV_TIMINGS) is held back: on a
    # failure the general step runs and reports it the nox way, through session.error.
    said, sys.stderr = sys.stderr, io.StringIO()
    try:
        code = frozen.sync(str(project_dir), str(env), selection, cache_dir=str(user_cache_dir()),
                           quiet=True, always_summary=False)
    finally:
        held, sys.stderr = sys.stderr, said
        if collecting:
            gc.enable()
        if code != 0:  # declined or failed: the venv as create() wrote it, for the full step
            from ghostenv.materialize.venv import create_venv

            shutil.rmtree(env, ignore_errors=True)
            create_venv(env, interpreter, clear=True, prompt=prompt, command=command)
        if parked.exists():
            shutil.rmtree(state_dir, ignore_errors=True)
            os.rename(parked, state_dir)
    text = held.getvalue() if isinstance(held, io.StringIO) else ""
    if code == EXIT_INTERRUPTED:
        raise KeyboardInterrupt
    if code != 0:
        if text:  # shown under nox -v only (nox's OUTPUT level, below DEBUG)
            logger.log(logging.DEBUG - 1, f"ghostenv: the fast path gave up: {text.strip()}")
        return None
    if text:
        sys.stderr.write(text)
    fp = sync_fingerprint(env, project_dir, groups=groups, extras=extras, all_groups=all_groups,
                          all_extras=all_extras, install_project=install_project)
    after = installed(env)
    state = EnvState(env)
    state.record("sync", fp, {}, after, merge=False)
    ms = (time.perf_counter() - started) * 1000
    changed = tuple(sorted(f"{name}=={version}" for name, version in after.items()))
    state.log("sync", skipped=False, ms=round(ms, 3), installed=list(changed), removed=[],
              path="fresh")
    return StepResult(skipped=False, ms=ms, changed=changed)


def _groups_defined(project_dir: Path) -> set[str] | None:
    """The project's ``[dependency-groups]`` names, normalized (None: unreadable).

    The general step selects nothing for a group the project does not define (the
    default ``dev`` of a project without one); the fast path would decline such a
    request, so it is asked only for the groups that exist.
    """
    import tomllib

    try:
        with open(project_dir / "pyproject.toml", "rb") as handle:
            table = tomllib.load(handle).get("dependency-groups", {})
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return {normalize(name) for name in table} if isinstance(table, dict) else None
