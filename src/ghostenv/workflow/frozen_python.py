"""The frozen fast path's interpreter: what the full sync would pick, from caches only.

:func:`choose` follows :func:`ghostenv.workflow.sync._choose_interpreter`: ``--python``
(a path, or a request looked up in the memo the full path keeps for an hour);
else the environment's own base interpreter while it satisfies requires-python
and ``.python-version``; else ``.python-version``'s request or requires-python
through the same memo. Version requests and specifiers are compared with the
release-only comparison of :mod:`ghostenv.lock.fast_markers`. Anything else --
no memo, a pre-release interpreter, a request spelled unusually -- raises
:class:`Fallback` and the full path searches (with packaging).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ghostenv.discover.interpreter import Interpreter

#: How long a remembered "request -> interpreter" choice is trusted without searching again
#: (the full path writes the memo: :func:`ghostenv.workflow.sync._find_remembered`).
CHOICE_TTL = 3600.0


class Fallback(Exception):
    """Leave this sync to the full path (raised before the environment is touched)."""



def choose(project: str, env_dir: str, request: str | None, requires_python: object,
                 cache_dir: str) -> Interpreter:
    """:func:`ghostenv.workflow.sync._choose_interpreter`, from the probe cache only."""
    if requires_python is not None and not isinstance(requires_python, str):
        raise Fallback
    if request is None:
        pinned = python_version_file(project)
        base = venv_base(env_dir)
        if base is not None:
            interp = _probed(base, cache_dir)
            if (requires_python is None or _specifier_contains(requires_python, interp)) and (
                    pinned is None or _request_matches(pinned, interp)):
                return interp
        if pinned is not None:
            request = pinned
        elif requires_python is not None:
            request = _canonical_specifier(requires_python)
    raw = (request or "").strip()
    if os.sep in raw or raw.startswith((".", "~")) or (raw and os.path.isfile(raw)):
        path = os.path.expanduser(raw)
        if os.path.isdir(path):
            for exe in ("python3", "python"):
                if os.path.exists(os.path.join(path, "bin", exe)):
                    path = os.path.join(path, "bin", exe)
                    break
        return _probed(path, cache_dir)
    return _remembered(request, cache_dir)


def _remembered(request: str | None, cache_dir: str) -> Interpreter:
    """The interpreter :func:`ghostenv.workflow.sync._find_remembered` chose for ``request``
    within the last hour (its memo file), checked against the request; else fall back."""
    from ghostenv._fast import sha256_hex

    key = sha256_hex("\0".join((request or "", os.environ.get("PATH", ""),
                                os.environ.get("VIRTUAL_ENV", ""))).encode())
    memo = os.path.join(cache_dir, "interpreter-choice-v1", f"{key[:32]}.txt")
    if time.time() - os.stat(memo).st_mtime >= CHOICE_TTL:
        raise Fallback
    with open(memo, encoding="utf-8") as handle:
        path = handle.read().strip()
    interp = _probed(path, cache_dir)
    if not _request_matches(request or "", interp):
        raise Fallback
    return interp


def _probed(path: str, cache_dir: str) -> Interpreter:
    """The interpreter at ``path`` from the probe cache (a miss probes it, as the full
    path would); too old or unusable: fall back."""
    from ghostenv.discover.interpreter import MIN_SUPPORTED, Interpreter
    from ghostenv.discover.probe import ProbeFailed, probe_cached

    if not os.path.exists(path):
        raise Fallback
    try:
        data, _cached = probe_cached(path, cache_dir)
    except ProbeFailed as exc:
        raise Fallback from exc
    interp = Interpreter.from_probe(path, data, source="path")
    if interp.version < MIN_SUPPORTED:
        raise Fallback
    return interp


def _request_matches(request: str, interp: Interpreter) -> bool:
    """:meth:`ghostenv.discover.request.Request.matches` for the plain requests: ``""``,
    ``3``, ``3.12``, ``3.12.1``, a specifier set of release versions; else fall back."""
    raw = request.strip()
    if raw in ("", "python", "any", "default"):
        return True
    if raw == "python3":
        return interp.version[0] == 3
    if raw.startswith(("<", ">", "=", "!", "~")) or "," in raw:
        return _specifier_contains(raw, interp)
    parts = raw.split(".")
    if len(parts) > 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise Fallback
    prefix = tuple(int(p) for p in parts)
    if len(prefix) == 1 and prefix[0] >= 10:
        raise Fallback  # "312": leave the spelling rules to the full path
    return interp.version[:len(prefix)] == prefix


def _split_specifier(text: str) -> list[tuple[str, str]]:
    out = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        op = next((o for o in ("===", "==", "~=", "!=", "<=", ">=", "<", ">")
                   if item.startswith(o)), None)
        if op is None or op == "===":
            raise Fallback
        out.append((op, item[len(op):].strip()))
    return out


def _canonical_specifier(text: str) -> str:
    """``str(SpecifierSet(text))`` (sorted, deduplicated, no spaces): the memo's key."""
    return ",".join(dict.fromkeys(sorted(op + version for op, version in
                                         _split_specifier(text))))


def _specifier_contains(text: str, interp: Interpreter) -> bool:
    """``SpecifierSet(text).contains(version, prereleases=True)`` for release versions."""
    from ghostenv.lock.fast_markers import Unsupported, version_compare

    if interp.release_level != "final":
        raise Fallback
    version = ".".join(map(str, interp.version))
    try:
        return all(version_compare(version, op, spec) for op, spec in _split_specifier(text))
    except Unsupported as exc:
        raise Fallback from exc


def python_version_file(root: str) -> str | None:
    """The first request in ``.python-version`` (comments skipped; the full path reads it
    here too)."""
    try:
        with open(os.path.join(root, ".python-version"), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            return line
    return None


def venv_base(env_dir: str) -> str | None:
    """``executable`` of the environment's pyvenv.cfg, when that file exists."""
    try:
        with open(os.path.join(env_dir, "pyvenv.cfg"), encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "executable" and os.path.isfile(value.strip()):
            return value.strip()
    return None
