"""Parsing what a user asks for: ``3.12``, ``3.12.1``, ``>=3.10``, ``cpython@3.11``,
``cpython3.12``, ``pypy``, ``pypy3.10``, or a path to an executable.

A bare version is a *prefix*: ``3.12`` matches 3.12.0 and 3.12.7, ``3`` any
3.x. A specifier uses packaging's rules. An implementation name alone matches
any version of it. Anything containing a path separator, starting with ``.``
or ``~``, or naming an existing file, is a path.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import InterpreterError

if TYPE_CHECKING:
    from ghostenv.discover.interpreter import Interpreter

IMPLEMENTATIONS = {"cpython": "cpython", "cp": "cpython", "python": "", "py": "",
                   "pypy": "pypy", "pp": "pypy", "graalpy": "graalpy"}
_VERSION = re.compile(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?(t)?$")
_IMPL_VERSION = re.compile(r"^([a-z]+)@?([\d<>=!~].*)?$")
_SPEC_START = ("<", ">", "=", "!", "~")


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed interpreter request; ``matches()`` decides for one Interpreter."""

    text: str
    implementation: str = ""  # "" = any
    version_prefix: tuple[int, ...] = ()
    specifier: str = ""
    path: Path | None = None
    free_threaded: bool | None = None

    @property
    def is_any(self) -> bool:
        return not (self.implementation or self.version_prefix or self.specifier or self.path)

    def matches(self, interp: Interpreter) -> bool:
        """Does ``interp`` satisfy this request?"""
        if self.implementation and interp.implementation != self.implementation:
            return False
        prefix = self.version_prefix
        if prefix and interp.version[: len(prefix)] != prefix:
            return False
        if self.free_threaded is not None and interp.free_threaded != self.free_threaded:
            return False
        if self.specifier:
            from packaging.specifiers import SpecifierSet

            if not SpecifierSet(self.specifier).contains(interp.version_str, prereleases=True):
                return False
        return True

    def describe(self) -> str:
        if self.path is not None:
            return f"the interpreter at {self.path}"
        parts = [self.implementation or "python"]
        if self.version_prefix:
            parts.append(".".join(map(str, self.version_prefix)))
        if self.specifier:
            parts.append(self.specifier)
        return " ".join(parts)


def _version(text: str, original: str, impl: str = "") -> Request:
    m = _VERSION.match(text)
    if not m:
        raise InterpreterError(
            f"cannot understand Python request {original!r}",
            hint="use a version (3.12, 3.12.1), a specifier (>=3.10), an implementation "
                 "(cpython@3.11, pypy) or a path to an executable",
        )
    prefix = tuple(int(g) for g in m.group(1, 2, 3) if g is not None)
    if len(prefix) == 1 and prefix[0] >= 10:  # "312" as in cpython312 / cp312
        digits = str(prefix[0])
        prefix = (int(digits[0]), int(digits[1:]))
    return Request(original, implementation=impl, version_prefix=prefix,
                   free_threaded=True if m.group(4) else None)


def parse_request(text: str | None) -> Request:
    """Parse a ``--python`` value. Empty or ``None`` means "any supported Python".

    >>> parse_request("cpython@3.11").version_prefix
    (3, 11)
    """
    raw = (text or "").strip()
    if not raw or raw in ("python", "python3", "any", "default"):
        return Request(raw, version_prefix=(3,) if raw == "python3" else ())
    if os.sep in raw or (os.altsep and os.altsep in raw) or raw.startswith((".", "~")) \
            or os.path.isfile(raw):
        return Request(raw, path=Path(raw).expanduser())
    if raw.startswith(_SPEC_START) or "," in raw:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            SpecifierSet(raw)
        except InvalidSpecifier as exc:
            raise InterpreterError(f"invalid version specifier in Python request {raw!r}: {exc}",
                                   hint="write it like '>=3.10' or '>=3.10,<3.13'") from None
        return Request(raw, specifier=raw)
    if raw[0].isdigit():
        return _version(raw, raw)
    lowered = raw.lower()
    m = _IMPL_VERSION.match(lowered)
    if m and m.group(1) in IMPLEMENTATIONS:
        impl = IMPLEMENTATIONS[m.group(1)]
        rest = m.group(2)
        if not rest:
            return Request(raw, implementation=impl)
        if rest.startswith(_SPEC_START):
            return Request(raw, implementation=impl, specifier=parse_request(rest).specifier)
        return _version(rest, raw, impl)
    raise InterpreterError(
        f"cannot understand Python request {raw!r}",
        hint="use a version (3.12, 3.12.1), a specifier (>=3.10), an implementation "
             "(cpython@3.11, cpython3.12, pypy) or a path to an executable",
    )
