"""ghostenv as a nox backend: ``import ghostenv.nox``, then ``venv_backend="ghostenv"``.

::

    import nox
    import ghostenv.nox

    @nox.session(venv_backend="ghostenv", python=["3.11", "3.12"])
    def tests(session):
        ghostenv.nox.sync(session, groups=["test"])   # the project's locked groups
        session.install("-e", ".")                     # through `ghostenv install`, not pip
        session.run("pytest")

Importing this module registers the backend in ``nox.virtualenv.ALL_VENVS``
and teaches ``Session.install`` to hand ghostenv environments to ``ghostenv
install`` (other backends are untouched). Under ``-R``/``--reuse-venv`` an
environment is reused and every install or sync step whose inputs did not
change is skipped without starting a process (see :mod:`ghostenv.integrate`).

A session environment created by this run is filled by ``ghostenv sync
--frozen``'s own path, in-process (:mod:`ghostenv.nox.fresh`), and a session whose
only backend is ghostenv skips nox's ``uv`` detection.

``GHOSTENV_INDEX_URL`` selects the index installs resolve against.
"""

from __future__ import annotations

from ghostenv.nox.backend import BACKEND, GhostenvEnv, register
from ghostenv.nox.session import sync

register()

__all__ = ["BACKEND", "GhostenvEnv", "register", "sync"]
