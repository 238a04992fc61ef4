"""The frozen fast path's editable project: its wheel from the build cache, or a fall back.

A project with a build system is installed editable (PEP 660). The full path
asks :func:`ghostenv.build.build_wheel`, which keys editable wheels by the
project's place, its configuration files and its top-level names
(:func:`ghostenv.build.source.editable_hash`) and returns the cached wheel when
one fits the interpreter. Once built, nothing about that needs packaging or a
backend: :func:`cached_editable` computes the same key with the builtin sha256
and looks in the same folder. No cached wheel (a first sync, a changed
``pyproject.toml``, a new top-level package) raises
:class:`~ghostenv.workflow.frozen_python.Fallback` and the full path builds it.
``tests/workflow/test_frozen_editable.py`` keeps the key equal to the builder's.
"""

from __future__ import annotations

import os

from ghostenv.workflow.frozen_python import Fallback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ghostenv.discover.interpreter import Interpreter
    from ghostenv.workflow.plan import Wanted

#: ``ghostenv.build.source.CONFIG_FILES`` and ``_SKIP_DIRS``, and ``ghostenv.build.wheel.BUILT``
#: (a test keeps them equal without importing the builder here).
CONFIG_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "__pycache__",
                       ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                       "node_modules"})
BUILT = "built-v1"


def editable_key(root: str) -> str:
    """:func:`ghostenv.build.source.editable_hash` of the project directory ``root``."""
    from ghostenv._fast import sha256_hex

    parts = [b"ghostenv-editable-v1\0" + os.fsencode(os.path.abspath(root))]
    for name in CONFIG_FILES:
        try:
            with open(os.path.join(root, name), "rb") as handle:
                body = bytes.fromhex(sha256_hex(handle.read()))
        except OSError:
            body = b"-"
        parts.append(name.encode() + b"\0" + body)
    for folder in (root, os.path.join(root, "src")):
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries
                               if e.name not in SKIP_DIRS
                               and not e.name.endswith((".egg-info", ".ghostenv-replay")))
        except OSError:
            continue
        parts.append(b"\0".join(os.fsencode(n) for n in names) + b"\1")
    return sha256_hex(b"".join(parts))


def cached_editable(root: str, name: str, interpreter: Interpreter, cache_dir: str) -> Wanted:
    """The project's editable wheel as the install engine wants it, from the build cache."""
    from ghostenv.workflow.plan import Wanted

    digest = editable_key(root)
    folder = os.path.join(cache_dir, "store", BUILT, digest[:2], digest, "editable")
    try:
        wheels = sorted(n for n in os.listdir(folder) if n.endswith(".whl"))
    except OSError as exc:
        raise Fallback from exc  # never built for this configuration: the full path builds
    major, minor = interpreter.version[:2]
    pure = {f"py{major}", f"py{major}{minor}"}
    accepted = set(interpreter.tag_cache)
    for wheel in wheels:
        parts = wheel[:-4].split("-")
        if len(parts) not in (5, 6):
            raise Fallback  # the builder's own parser decides what it skips
        tags = [(py, abi, plat) for py in parts[-3].split(".") for abi in parts[-2].split(".")
                for plat in parts[-1].split(".")]
        if any(abi == "none" and plat == "any" and py in pure for py, abi, plat in tags) or (
                accepted and {"-".join(t) for t in tags} & accepted):
            return Wanted(name, parts[1], wheel, path=os.path.join(folder, wheel),  # type: ignore[arg-type]
                          requested=True,
                          direct_url={"url": file_uri(root), "dir_info": {"editable": True}})
    raise Fallback


#: Bytes ``urllib.parse.quote`` leaves alone (with ``safe="/"``, as ``Path.as_uri`` calls it).
_UNQUOTED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def file_uri(path: str) -> str:
    """``Path(path).as_uri()`` of an absolute POSIX path, without pathlib's imports."""
    if not path.startswith("/"):
        raise Fallback
    if path.startswith("//") and not path.startswith("///"):
        raise Fallback  # pathlib keeps a leading "//" apart: leave it to the full path
    path = "/" + "/".join(part for part in path.split("/") if part not in ("", "."))
    return "file://" + "".join(chr(b) if b in _UNQUOTED else f"%{b:02X}"
                               for b in os.fsencode(path))
