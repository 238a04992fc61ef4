"""``ghostenv.nox.sync(session, ...)``: the project's locked groups in a nox session."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ghostenv.integrate.stamp import EnvState
from ghostenv.nox.backend import GhostenvEnv

logger = logging.getLogger("nox")


def sync(session: Any, groups: Sequence[str] | None = None, extras: Sequence[str] = (), *,
         all_groups: bool = False, all_extras: bool = False, install_project: bool = True,
         project: str | Path | None = None) -> None:
    """Materialize what uv.lock selects for ``groups`` and ``extras`` into the session's env.

    ``groups`` defaults to ``["dev"]`` (as ``uv sync`` does). ``project`` is the
    directory holding pyproject.toml and uv.lock (default: where nox runs, the
    noxfile's directory). As ``uv sync``, the project itself is installed
    editable when it has a build system, unless ``install_project=False``.
    Nothing happens when the lock, the selection and the environment's locked
    packages are unchanged since the last sync; otherwise only the difference is
    installed or removed. Packages that ``session.install`` put in the
    environment are never removed.

    An environment this nox run has just created and nothing has touched yet
    (nox recreates it on every run without ``-R``) is filled the way ``ghostenv
    sync --frozen`` fills a new one, replaying its recorded operations when the
    inputs are the same as last time (:mod:`ghostenv.nox.fresh`;
    ``GHOSTENV_NOX_FAST=0`` turns that off).
    """
    venv = session.virtualenv
    if not isinstance(venv, GhostenvEnv):
        session.error("ghostenv.nox.sync() needs a session with venv_backend=\"ghostenv\"")
    if session._runner.global_config.no_install and venv._reused:
        EnvState(Path(venv.location)).log("sync", skipped=True, ms=0.0, reason="no-install")
        return
    from ghostenv.errors import GhostenvError
    from ghostenv.integrate.steps import sync_step

    root = (Path(project) if project is not None else Path.cwd()).resolve()
    chosen = ("dev",) if groups is None else tuple(groups)
    interp = venv.interpreter_found
    fast = interp is not None and venv.untouched()  # made by this run, still as made
    venv.pristine = False
    try:
        result = None
        if fast and interp is not None:
            from ghostenv.nox.fresh import fresh_sync

            result = fresh_sync(Path(venv.location), root, interp, groups=chosen,
                                extras=tuple(extras), all_groups=all_groups,
                                all_extras=all_extras, install_project=install_project,
                                prompt=venv.prompt, command=venv.command(interp))
        if result is None:
            result = sync_step(Path(venv.location), root, groups=chosen, extras=tuple(extras),
                               all_groups=all_groups, all_extras=all_extras,
                               install_project=install_project, progress=logger.debug)
    except GhostenvError as exc:
        session.error(f"ghostenv: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        raise  # session.error raises already
    if result.skipped:
        logger.info(f"ghostenv: uv.lock unchanged, sync skipped ({result.ms:.1f} ms)")
        return
    parts = [f"+{name}" for name in result.changed] + [f"-{name}" for name in result.removed]
    summary = " ".join(parts) if parts else "nothing to change"
    logger.info(f"ghostenv: synced uv.lock in {result.ms:.0f} ms: {summary}")
