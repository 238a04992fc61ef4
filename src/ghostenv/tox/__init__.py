"""ghostenv as a tox 4 plugin (entry point group ``tox``: ``ghostenv = "ghostenv.tox.plugin"``).

Two run environment types (``runner = ...`` in an env section):

``ghostenv-venv``
    tox's virtualenv runner with ghostenv underneath: the environment is
    written by ghostenv's venv factory (no virtualenv seeding, no pip) and
    ``deps`` are installed by ``ghostenv install``, each install skipped when
    its inputs did not change.
``ghostenv-lock``
    the same, plus: the project's ``uv.lock`` is materialized into the
    environment for the env's ``dependency_groups`` and ``extras`` (the
    exact sync of ``ghostenv sync``), and nothing at all is done for it on a
    run whose lock, selection and environment are unchanged.

Importing this package does not import tox; :mod:`ghostenv.tox.plugin` does.
"""
