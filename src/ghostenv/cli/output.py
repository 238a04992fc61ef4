"""Terminal output: colour policy, verbosity, and the ``error:``/``hint:`` format.

Stdlib-only, and cheap: every CLI run imports it, so no ``dataclasses`` (which
pulls in ``inspect``), ``typing`` or ``pathlib`` at import time. Colour follows
``--color`` first, then ``NO_COLOR`` (any non-empty value disables), then
``FORCE_COLOR`` (any non-empty value enables), then whether the stream is a
terminal. Output must read fine without colour.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

_CODES = {"red": "31", "yellow": "33", "green": "32", "cyan": "36", "bold": "1", "dim": "2"}


def color_enabled(choice: str, stream: TextIO) -> bool:
    """Decide whether to colour ``stream`` for a ``--color`` choice (auto|always|never)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Context:
    """Global options every subcommand receives, and the ways to print.

    >>> ctx = Context(verbosity=1, cache_dir=Path("~/.cache/ghostenv").expanduser())
    """

    __slots__ = ("cache_dir", "color", "offline", "quiet", "stderr", "stdout", "verbosity")

    def __init__(self, *, verbosity: int = 0, quiet: bool = False, color: str = "auto",
                 cache_dir: Path | None = None, offline: bool = False,
                 stdout: TextIO | None = None, stderr: TextIO | None = None) -> None:
        if cache_dir is None:
            from pathlib import Path

            cache_dir = Path()
        self.verbosity = verbosity
        self.quiet = quiet
        self.color = color
        self.cache_dir: Path = cache_dir
        self.offline = offline
        self.stdout: TextIO = stdout if stdout is not None else sys.stdout
        self.stderr: TextIO = stderr if stderr is not None else sys.stderr

    def __repr__(self) -> str:
        return (f"Context(verbosity={self.verbosity}, quiet={self.quiet}, color={self.color!r}, "
                f"cache_dir={self.cache_dir!r}, offline={self.offline})")

    def style(self, text: str, *styles: str, stream: TextIO | None = None) -> str:
        """Wrap ``text`` in ANSI codes when colour is on for ``stream`` (stderr by default)."""
        if not styles or not color_enabled(self.color, stream or self.stderr):
            return text
        codes = ";".join(_CODES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"

    def echo(self, text: str = "") -> None:
        """Print a result line to stdout (never suppressed: it is the command's output)."""
        print(text, file=self.stdout)

    def info(self, text: str) -> None:
        """Print a status line to stderr unless ``--quiet``."""
        if not self.quiet:
            print(text, file=self.stderr)

    def debug(self, text: str, level: int = 1) -> None:
        """Print a diagnostic line to stderr when ``-v`` was given ``level`` times or more."""
        if self.verbosity >= level:
            print(self.style(text, "dim"), file=self.stderr)

    def warn(self, text: str) -> None:
        """Print ``warning: text`` to stderr unless ``--quiet``."""
        if not self.quiet:
            print(f"{self.style('warning', 'yellow', 'bold')}: {text}", file=self.stderr)

    def error(self, message: str, hint: str | None = None) -> None:
        """Print the one-line error, and its hint, to stderr (never suppressed)."""
        print(f"{self.style('error', 'red', 'bold')}: {message}", file=self.stderr)
        if hint:
            print(f"{self.style('hint', 'cyan', 'bold')}: {hint}", file=self.stderr)
