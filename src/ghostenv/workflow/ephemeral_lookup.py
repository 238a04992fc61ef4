"""The fast path of ``run --with`` and of PEP 723 scripts: raw request -> environment, stdlib only.

A second ``ghostenv run --with rich python hello.py`` should not import the
resolver, httpx or packaging just to learn that the environment built last
time still fits. This module maps the *raw* request -- the requirement
strings as typed, the ``--python`` request, the base environment, and (when
neither names an interpreter) ``PATH`` -- to the environment built for it, and
checks, with a few ``stat`` calls, that nothing it depended on changed: the
environment is complete, the interpreter binary and the base environment's
``pyvenv.cfg`` are the same files. Entries older than ``GHOSTENV_EPHEMERAL_TTL``
seconds (default one day) are not trusted, so an unpinned ``--with rich``
picks up a new release within a day, as a fresh resolution would.

Layout: ``<cache>/ephemeral-v1/lookup/<key>.txt``; environments themselves
live in ``<cache>/ephemeral-v1/envs/<digest of the resolution>``. Only ``os``
and ``zlib`` are imported: no ``json``, ``hashlib``, ``pathlib``, ``re`` or ``typing``
(each costs milliseconds on a cold start, and this runs before every command).
"""

from __future__ import annotations

import os
import time
import zlib

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Sequence

    StrPath = str | os.PathLike[str]

ROOT = "ephemeral-v1"
MARKER = "ghostenv-ephemeral.json"
DEFAULT_TTL = 86400.0
_BLOCK = (r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)[ \t]*$\s"
          r"(?P<content>(^#(| .*)$\s)+)^# ///[ \t]*$")


def _stat_key(path: str | os.PathLike[str]) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def request_key(requirements: Sequence[str], *, python: str | None, base: StrPath | None,
                kind: str = "with") -> str:
    """The raw request as one line of text (order of requirements does not matter)."""
    parts = [kind, python or "", os.path.abspath(base) if base is not None else ""]
    if python is None and base is None:  # discovery decides: it depends on PATH
        parts += [os.environ.get("PATH", ""), os.environ.get("VIRTUAL_ENV", "")]
    parts += sorted(r.strip() for r in requirements)
    return "\x1f".join(parts).replace("\n", "\\n").replace("\t", "\\t")


def _entry(cache_dir: StrPath, key: str) -> str:
    return os.path.join(cache_dir, ROOT, "lookup", f"{_digest(key)}.txt")


def _digest(text: str) -> str:
    """A file name for a request: two cheap checksums (the entry holds the full text to compare)."""
    data = text.encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"


def _ttl() -> float:
    try:
        return float(os.environ.get("GHOSTENV_EPHEMERAL_TTL", DEFAULT_TTL))
    except ValueError:
        return DEFAULT_TTL


def _stat_text(path: StrPath | None) -> str:
    found = _stat_key(path) if path else None
    return " ".join(map(str, found)) if found else ""


def _check(key: str, entry: str) -> str | None:
    """The recorded environment when every recorded fact still holds.

    Entries are ``key<TAB>value`` lines rather than JSON: ``json`` imports
    ``re``, and this check runs before every ``run --with``.
    """
    try:
        with open(entry, encoding="utf-8") as handle:
            doc = dict(line.rstrip("\n").split("\t", 1) for line in handle if "\t" in line)
        env = doc["env"]
        if doc["request"] != key:
            return None  # another request whose checksums collide
        if time.time() - float(doc["created"]) > _ttl():
            return None
        if _stat_text(doc["interpreter"]) != doc["interpreter_stat"]:
            return None
        if doc["base_cfg"] and _stat_text(doc["base_cfg"]) != doc["base_cfg_stat"]:
            return None
        if not (os.path.isfile(os.path.join(env, MARKER))
                and os.path.exists(os.path.join(env, "bin", "python"))):
            return None
    except (OSError, ValueError, KeyError):
        return None
    return env


def lookup(requirements: Sequence[str], *, python: str | None, base: StrPath | None,
           cache_dir: StrPath) -> str | None:
    """The environment built earlier for exactly this request, if it still holds; else None.

    Returns the environment directory as a string (``<env>/bin`` goes first on PATH).
    """
    key = request_key(requirements, python=python, base=base)
    return _check(key, _entry(cache_dir, key))


def remember(requirements: Sequence[str], *, python: str | None, base: StrPath | None,
             cache_dir: StrPath, env: StrPath, interpreter: StrPath,
             kind: str = "with") -> None:
    """Record ``env`` as the answer to this raw request (after it was built or found)."""
    from pathlib import Path

    from ghostenv.fsutil import write_atomic

    key = request_key(requirements, python=python, base=base, kind=kind)
    base_cfg = os.path.join(base, "pyvenv.cfg") if base is not None else ""
    values = {
        "request": key,
        "env": os.fspath(env),
        "interpreter": os.fspath(interpreter),
        "interpreter_stat": _stat_text(interpreter),
        "base_cfg": base_cfg,
        "base_cfg_stat": _stat_text(base_cfg),
        "created": repr(time.time()),
    }
    if any("\n" in v or "\t" in v for v in values.values()):
        return  # not representable; such a request just takes the slow path every time
    text = "".join(f"{k}\t{v}\n" for k, v in values.items())
    try:
        write_atomic(Path(_entry(cache_dir, key)), text.encode("utf-8"))
    except OSError:
        return  # only speed is lost


def script_block(text: str, name: str = "script") -> str | None:
    """The TOML text of the PEP 723 ``# /// script`` block (None when absent).

    Two blocks of the same type are an error per the spec; ValueError says so.
    """
    import re

    found = [m for m in re.finditer(_BLOCK, text) if m.group("type") == name]
    if len(found) > 1:
        raise ValueError(f"more than one `# /// {name}` block")
    if not found:
        return None
    lines = found[0].group("content").splitlines(keepends=True)
    return "".join(line[2:] if line.startswith("# ") else line[1:] for line in lines)


def script_key_parts(script: StrPath) -> list[str] | None:
    """What a script's environment depends on: its metadata block (not its code)."""
    try:
        with open(script, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        block = script_block(text)
    except ValueError:
        return None
    return ["pep723", block or ""]


def script_lookup(script: StrPath, *, python: str | None, cache_dir: StrPath) -> str | None:
    """The environment built for this script's ``# /// script`` metadata, if it still holds."""
    parts = script_key_parts(script)
    if parts is None:
        return None
    key = request_key(parts, python=python, base=None, kind="script")
    return _check(key, _entry(cache_dir, key))
