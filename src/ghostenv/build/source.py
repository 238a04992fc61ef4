"""What is being built: the ``[build-system]`` table and a hash that names the source.

The hash is the cache key for built wheels. For an sdist it is the archive's
sha256 (the same digest an index publishes). For a directory it covers every
file's relative path, executable bit and bytes, skipping what builds and tools
write into a tree (``.git``, virtual environments, ``build/``, ``dist/``,
``*.egg-info``, ``__pycache__``): an edit anywhere else invalidates the wheel,
a build leaving its droppings does not.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ghostenv.errors import BuildError

#: pip's and uv's behaviour for a project without ``[build-system]``.
LEGACY_REQUIRES = ("setuptools>=40.8.0",)
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "build", "dist", "__pycache__",
                        ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                        "node_modules"})


@dataclass(frozen=True, slots=True)
class BuildSystem:
    """A project's PEP 517/518 build declaration (defaults filled in)."""

    requires: tuple[str, ...]
    backend: str
    backend_path: tuple[str, ...] = ()
    name: str = ""
    """Project name when pyproject.toml says it (for messages), else the directory name."""


def read_build_system(project: Path) -> BuildSystem:
    """The ``[build-system]`` of ``project`` (setuptools' legacy backend when absent)."""
    pyproject = project / "pyproject.toml"
    name = project.name
    if not pyproject.is_file():
        if not (project / "setup.py").is_file() and not (project / "setup.cfg").is_file():
            raise BuildError(f"{project}: neither pyproject.toml nor setup.py, nothing to build",
                             hint="pass a project directory or an sdist")
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, name=name)
    try:
        doc = tomllib.loads(pyproject.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BuildError(f"{pyproject}: invalid TOML ({exc})") from exc
    project_table = doc.get("project")
    if isinstance(project_table, dict) and isinstance(project_table.get("name"), str):
        name = project_table["name"]
    table = doc.get("build-system")
    if table is None:
        return BuildSystem(LEGACY_REQUIRES, LEGACY_BACKEND, name=name)
    if not isinstance(table, dict):
        raise BuildError(f"{pyproject}: [build-system] is not a table")
    requires = table.get("requires")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(f"{pyproject}: [build-system] requires must be a list of strings",
                         hint="PEP 518 makes `requires` mandatory in [build-system]")
    backend = table.get("build-backend")
    backend_path = table.get("backend-path", [])
    if not isinstance(backend_path, list) or not all(isinstance(p, str) for p in backend_path):
        raise BuildError(f"{pyproject}: [build-system] backend-path must be a list of strings")
    if backend is None:
        return BuildSystem(tuple(requires), LEGACY_BACKEND, name=name)
    if not isinstance(backend, str) or not backend.strip():
        raise BuildError(f"{pyproject}: [build-system] build-backend must be a string")
    return BuildSystem(tuple(requires), backend.strip(), tuple(backend_path), name=name)


def tree_hash(root: Path) -> str:
    """sha256 over the project tree (paths, executable bits, contents), tools' output skipped."""
    digest = hashlib.sha256(b"ghostenv-tree-v1\0")
    seen = {os.path.realpath(root)}
    # Symlinked directories are followed (backends copy what they point at), once each.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        kept = []
        for d in sorted(dirnames):
            if d in _SKIP_DIRS or d.endswith(".egg-info"):
                continue
            real = os.path.realpath(os.path.join(dirpath, d))
            if real not in seen:
                seen.add(real)
                kept.append(d)
        dirnames[:] = kept
        rel_dir = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name)).replace(os.sep, "/")
            try:
                st = os.lstat(path)
                if os.path.islink(path):
                    body = b"link:" + os.fsencode(os.readlink(path))
                else:
                    with open(path, "rb") as handle:
                        body = hashlib.sha256(handle.read()).digest()
            except OSError:
                continue  # vanished meanwhile, or unreadable: not part of the build either
            mode = b"x" if st.st_mode & 0o111 else b"-"
            digest.update(os.fsencode(rel) + b"\0" + mode + body + b"\0")
    return digest.hexdigest()


#: What an editable wheel depends on (uv's default ``cache-keys`` are the same three files).
CONFIG_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def editable_hash(root: Path) -> str:
    """Key of an editable wheel of ``root``: its configuration, place and top-level names.

    An editable wheel points at the tree (a ``.pth`` line or an import hook
    mapping top-level packages), so editing a module never needs a rebuild;
    what does is the build configuration, the directory it points at, and a
    new top-level package (listed, not read: cheap on large trees).
    """
    digest = hashlib.sha256(b"ghostenv-editable-v1\0" + os.fsencode(os.path.abspath(root)))
    for name in CONFIG_FILES:
        try:
            body = hashlib.sha256((root / name).read_bytes()).digest()
        except OSError:
            body = b"-"
        digest.update(name.encode() + b"\0" + body)
    for folder in (root, root / "src"):
        try:
            names = sorted(e.name for e in os.scandir(folder)
                           if e.name not in _SKIP_DIRS
                           and not e.name.endswith((".egg-info", ".ghostenv-replay")))
        except OSError:
            continue
        digest.update(b"\0".join(os.fsencode(n) for n in names) + b"\1")
    return digest.hexdigest()


__all__ = ["CONFIG_FILES", "LEGACY_BACKEND", "LEGACY_REQUIRES", "BuildSystem", "editable_hash",
           "read_build_system", "tree_hash"]
