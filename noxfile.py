"""The project's own sessions, both on ghostenv's own nox backend (dogfood).

nox imports this file in its own interpreter, so ghostenv must be importable
there: in a fresh clone, `pip install -e ".[test]"` (which also brings nox),
then `python -m nox`. `GHOSTENV_INDEX_URL` points `ghostenv install` at another
index; `-R` re-runs reuse the environment without any install work.
"""

from __future__ import annotations

import nox

try:
    import ghostenv.nox
except ImportError as exc:  # nox runs from an interpreter without ghostenv
    raise SystemExit(
        "noxfile.py: ghostenv is not importable by the Python running nox; "
        'run `python -m pip install -e ".[test]"` with that Python first'
    ) from exc

nox.options.sessions = ["lint", "tests"]


@nox.session(venv_backend=ghostenv.nox.BACKEND)
def tests(session: nox.Session) -> None:
    """Run the test suite in an environment ghostenv creates and fills (no pip)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(venv_backend=ghostenv.nox.BACKEND)
def lint(session: nox.Session) -> None:
    """ruff and mypy, both clean."""
    session.install("-e", ".[test]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("mypy")
