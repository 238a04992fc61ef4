"""Search order and the ``find``/``list`` operations.

Order (first match wins for ``find``):

1. ``$VIRTUAL_ENV/bin/python`` when a virtual environment is active, then
   ``$CONDA_PREFIX/bin/python``. Decision: an activated environment is the
   user's explicit statement of "the Python I am using", as with ``uv``; a venv
   built from it points at its *base* interpreter, so nothing nests.
2. Every directory of ``PATH``, in order (``python``, ``python3``,
   ``python3.X``, ``pypy*``, ``graalpy*``). pyenv's shim directory is skipped
   (the shims are shell scripts that re-dispatch; pyenv's versions are searched
   directly below).
3. pyenv versions: ``$(pyenv root)/versions/*/bin/python`` (``PYENV_ROOT`` or
   ``~/.pyenv``), newest first.
4. ``/usr/local/bin``, ``/usr/bin``, Homebrew (``/opt/homebrew/bin``,
   ``/home/linuxbrew/.linuxbrew/bin``), conda (``~/miniconda3``,
   ``~/anaconda3``, ``~/miniforge3``, ``/opt/conda``).

Several names for one interpreter (``python``, ``python3``, ``python3.12`` in a
directory) are probed once: candidates are de-duplicated by real path, except
that a venv's ``bin/python`` is its own interpreter (different prefix).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ghostenv.discover import memo
from ghostenv.discover.interpreter import MIN_SUPPORTED, Interpreter
from ghostenv.discover.probe import ProbeFailed, cache_file, probe_cached
from ghostenv.discover.request import Request, parse_request
from ghostenv.errors import InterpreterError

_NAME = re.compile(r"^(python|pypy|graalpy)(\d+(\.\d+)?t?)?$")


@dataclass(frozen=True, slots=True)
class Candidate:
    """One place looked at: an Interpreter, or the reason it was skipped."""

    path: Path
    source: str
    interpreter: Interpreter | None = None
    skipped: str = ""
    cached: bool = False
    #: The raw probe data the interpreter was built from (kept for :mod:`.memo`).
    probe: dict[str, Any] | None = None


def _bin(prefix: str | os.PathLike[str]) -> Path:
    return Path(prefix) / ("Scripts" if os.name == "nt" else "bin")


def _names_in(directory: Path) -> list[Path]:
    """Python-looking executables in ``directory``, shortest name first (``python`` first)."""
    try:
        entries = [e for e in os.scandir(directory) if _NAME.match(e.name)]
    except OSError:
        return []
    entries.sort(key=lambda e: (not e.name.startswith("python"), len(e.name), e.name))
    return [Path(e.path) for e in entries]


def pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.\-]", name))


def search_locations() -> Iterator[tuple[Path, str]]:
    """Every (directory, source label) to look in, in search order."""
    for var, label in (("VIRTUAL_ENV", "active venv"), ("CONDA_PREFIX", "active conda")):
        value = os.environ.get(var)
        if value:
            yield _bin(value), label
    shims = pyenv_root() / "shims"
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and Path(entry) != shims:
            yield Path(entry), "PATH"
    versions = pyenv_root() / "versions"
    try:
        names = sorted(os.listdir(versions), key=_version_key, reverse=True)
    except OSError:
        names = []
    for name in names:
        yield versions / name / "bin", "pyenv"
    for directory, label in (
        ("/usr/local/bin", "system"), ("/usr/bin", "system"),
        ("/opt/homebrew/bin", "homebrew"), ("/home/linuxbrew/.linuxbrew/bin", "homebrew"),
    ):
        yield Path(directory), label
    home = Path.home()
    for conda in (home / "miniconda3", home / "anaconda3", home / "miniforge3", Path("/opt/conda")):
        yield _bin(conda), "conda"


def iter_candidates(cache_dir: Path | None, trail: list[str] | None = None
                    ) -> Iterator[Candidate]:
    """Probe candidates lazily, in search order, each real interpreter once.

    ``trail`` collects every directory scanned and executable looked at, in
    order (what :mod:`ghostenv.discover.memo` checks to trust a remembered find).
    """
    seen_dirs: set[Path] = set()
    seen: set[tuple[str, str]] = set()
    for directory, source in search_locations():
        if directory in seen_dirs:
            continue
        seen_dirs.add(directory)
        if trail is not None:
            trail.append(str(directory))
        for path in _names_in(directory):
            if trail is not None:
                trail.append(str(path))
            if not os.path.exists(path):
                yield Candidate(path, source, skipped="broken symlink")
                continue
            if not os.access(path, os.X_OK) or os.path.isdir(path):
                yield Candidate(path, source, skipped="not an executable file")
                continue
            venv_cfg = path.parent.parent / "pyvenv.cfg"
            ident = (os.path.realpath(path), str(venv_cfg) if venv_cfg.exists() else "")
            if ident in seen:
                continue
            seen.add(ident)
            try:
                data, cached = probe_cached(str(path), cache_dir)
            except ProbeFailed as exc:
                yield Candidate(path, source, skipped=str(exc))
                continue
            try:
                interp = Interpreter.from_probe(path, data, source=source)
            except (KeyError, TypeError, ValueError) as exc:
                yield Candidate(path, source, skipped=f"unexpected probe data: {exc}")
                continue
            yield Candidate(path, source, interpreter=interp, cached=cached, probe=data)


def list_interpreters(cache_dir: Path | None) -> list[Candidate]:
    """Every candidate in search order, including skipped ones (with reasons)."""
    return list(iter_candidates(cache_dir))


def _probe_path(request: Request, cache_dir: Path | None,
                trail: list[str]) -> tuple[Interpreter, dict[str, Any]]:
    assert request.path is not None
    path = request.path
    trail.append(str(path))
    if path.is_dir():
        for name in ("python3", "python"):
            if (_bin(path) / name).exists():
                path = _bin(path) / name
                break
    if not path.exists():
        raise InterpreterError(f"no interpreter at {path}: "
                               f"{'broken symlink' if path.is_symlink() else 'no such file'}",
                               hint="pass the path of a Python executable or a venv directory")
    try:
        data, _cached = probe_cached(str(path), cache_dir)
    except ProbeFailed as exc:
        raise InterpreterError(f"{path} is not a usable Python: {exc}",
                               hint="pass the path of a Python executable") from None
    trail.append(str(path))
    return Interpreter.from_probe(path, data, source="path"), data


def find_interpreter(request: str | Request | None, cache_dir: Path | None,
                     *, allow_unsupported: bool = False) -> Interpreter:
    """The first interpreter in search order that satisfies ``request``.

    Raises :class:`InterpreterError` whose hint lists what was found.

    >>> find_interpreter("3.12", Path("~/.cache/ghostenv").expanduser()).python_version
    '3.12'
    """
    text = request.text if isinstance(request, Request) else request
    if cache_dir is not None:
        hit = memo.lookup(cache_dir, text, allow_unsupported)
        if hit is not None:
            return Interpreter.from_probe(hit[0], hit[1], source=hit[2])
    req = request if isinstance(request, Request) else parse_request(request)
    trail: list[str] = []
    if req.path is not None:
        interp, data = _probe_path(req, cache_dir, trail)
        if not allow_unsupported and not interp.supported:
            raise _too_old(interp)
        if cache_dir is not None:
            trail.append(str(cache_file(cache_dir, str(interp.path))))
            memo.remember(cache_dir, text, trail=trail, path=str(interp.path), data=data,
                          source=interp.source, allow_unsupported=allow_unsupported)
        return interp
    found: list[Interpreter] = []
    too_old: list[Interpreter] = []
    for cand in iter_candidates(cache_dir, trail):
        if cand.interpreter is None:
            continue
        interp = cand.interpreter
        if req.matches(interp):
            if interp.supported or allow_unsupported:
                if cache_dir is not None and cand.probe is not None:
                    trail.append(str(cache_file(cache_dir, str(interp.path))))
                    memo.remember(cache_dir, text, trail=trail, path=str(interp.path),
                                  data=cand.probe, source=interp.source,
                                  allow_unsupported=allow_unsupported)
                return interp
            too_old.append(interp)
        found.append(interp)
    if too_old:
        raise _too_old(too_old[0])
    listing = sorted({f"{i.key} ({i.path})" for i in found})
    hint = ("found: " + ", ".join(listing)) if listing else \
        "no Python found on PATH, in pyenv, /usr/bin, /usr/local/bin, Homebrew or conda"
    raise InterpreterError(f"no Python interpreter matches {req.text or 'any'!r} "
                           f"({req.describe()})", hint=hint)


def _too_old(interp: Interpreter) -> InterpreterError:
    minimum = ".".join(map(str, MIN_SUPPORTED))
    return InterpreterError(
        f"{interp.path} is {interp.key}, older than ghostenv supports (>= {minimum})",
        hint=f"ask for a newer one, e.g. --python {minimum}",
    )
