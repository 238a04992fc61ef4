"""A one-line progress display for syncs: resolving, downloading (with bytes), installing.

On a terminal the line is redrawn in place (``\\r`` + erase) and removed when
the work ends, so only the summary line stays. Elsewhere (a pipe, CI logs,
``--quiet``) nothing is drawn: the command prints only its one-line summary.
With ``-v`` the messages are printed as lines instead (the same text the
engine reports), which is what a log wants.

The engine talks to it through a plain ``Callable[[str], None]`` (the
``progress=`` argument every stage already takes) plus two optional methods a
caller may use when it knows more: :meth:`phase` and :meth:`expect`.
Stdlib-only.
"""

from __future__ import annotations

import sys
import time

# A sync on a terminal draws this display, so it is on the stdlib fast path: typing and
# collections.abc (~2-3 ms to import) are read only by type checkers.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TextIO

#: Redraw at most this often (seconds): a terminal is slow next to a hardlink.
REDRAW = 0.05


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover - loop always returns


class Progress:
    """Callable progress sink; see the module docstring."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.log = log
        self.label = ""
        self.sizes: dict[str, int] = {}
        self.files_total = 0
        self.files_done = 0
        self.bytes_total = 0
        self.bytes_done = 0
        self.last = 0.0
        self.drawn = False

    def phase(self, label: str) -> None:
        """Start a phase (``Resolving``, ``Building demo``, ``Installing 16 packages``)."""
        self.label = label
        self._draw(force=True)

    def expect(self, sizes: Mapping[str, int | None]) -> None:
        """The files about to be downloaded, by file name, with their sizes when known."""
        self.sizes = {name: size or 0 for name, size in sizes.items()}
        self.files_total = len(self.sizes)
        self.bytes_total = sum(self.sizes.values())
        self.files_done = self.bytes_done = 0
        if self.files_total:
            self.label = "Downloading"
            self._draw(force=True)

    def __call__(self, text: str) -> None:
        if self.log is not None:
            self.log(text)
        if text.startswith("Downloaded "):
            name = text[len("Downloaded "):].strip()
            self.files_done += 1
            self.bytes_done += self.sizes.get(name, 0)
            if self.files_done >= self.files_total:
                self.label = "Installing"
        elif text.startswith("Building "):
            self.label = text
        self._draw()

    def _line(self) -> str:
        if self.label == "Downloading" and self.files_total:
            amount = (f", {_size(self.bytes_done)}/{_size(self.bytes_total)}"
                      if self.bytes_total else "")
            return f"Downloading {self.files_done}/{self.files_total} files{amount}"
        return f"{self.label}..."

    def _draw(self, *, force: bool = False) -> None:
        if not self.enabled or not self.label:
            return
        now = time.monotonic()
        if not force and now - self.last < REDRAW:
            return
        self.last = now
        self.stream.write(f"\r\x1b[2K{self._line()}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """Erase the line (the summary is printed after)."""
        if self.drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.drawn = False
