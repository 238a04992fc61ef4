"""The error hierarchy and the one place that maps errors to exit codes.

Every failure a user can cause or meet (bad input, network, disk) is a
:class:`GhostenvError`: a message that names the file, package or URL, and an
optional hint that says what to do next. The CLI prints these as::

    error: <message>
    hint: <hint>

and exits with :attr:`GhostenvError.exit_code`. Anything that is not a
``GhostenvError`` is a bug in ghostenv and is reported as an internal error.

Stdlib-only: this module is imported on the fast path.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class GhostenvError(Exception):
    """Root of every error ghostenv reports to a user.

    >>> raise GhostenvError("uv.lock: no [[package]] named 'idna'", hint="run `ghostenv lock`")
    """

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(GhostenvError):
    """The command line itself is wrong (unknown option, conflicting flags)."""

    exit_code = EXIT_USAGE


class ProjectError(GhostenvError):
    """pyproject.toml is missing, malformed or semantically invalid."""


class LockError(GhostenvError):
    """uv.lock is malformed, outdated, or cannot be written."""


class ResolutionError(GhostenvError):
    """No set of versions satisfies the requirements (the hint carries the report)."""


class NetworkError(GhostenvError):
    """An index or file server could not be reached or answered badly."""


class WheelError(GhostenvError):
    """A wheel or sdist is malformed, unsafe, or incompatible."""


class HashMismatchError(WheelError):
    """Downloaded or stored bytes do not match the expected digest."""


class StoreError(GhostenvError):
    """The content-addressed store is corrupt or cannot be written."""


class InstallError(GhostenvError):
    """Installing into or removing from an environment failed."""


class InterpreterError(GhostenvError):
    """No Python interpreter matches the request, or the one found is broken."""


class BuildError(GhostenvError):
    """A PEP 517 backend failed to build a wheel or prepare metadata."""


def exit_code_for(exc: BaseException) -> int:
    """Return the process exit code for ``exc``: the single mapping used by the CLI."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, GhostenvError):
        return exc.exit_code
    return EXIT_FAILURE


def from_os_error(exc: OSError, *, action: str) -> GhostenvError:
    """Turn an ``OSError`` met while doing ``action`` into a readable error.

    A full disk and a permission problem get their own hint; anything else keeps
    the operating system's wording and the path it names.
    """
    import errno

    where = f" `{exc.filename}`" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return GhostenvError(
            f"no space left on device while {action}{where}",
            hint="free some disk space (try: `ghostenv cache prune`) and run the command again",
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return GhostenvError(
            f"permission denied while {action}{where}",
            hint="check the ownership of that path, or choose another with `--cache-dir`",
        )
    return GhostenvError(f"{exc.strerror or exc} while {action}{where}")
