"""Stamps that let a tool integration skip work on an environment that is already right.

nox (``-R``) and tox re-run the same install steps against an environment
that already holds their result; pip then spends seconds concluding that
nothing is to be done. The integrations record, inside the environment, what
each step was asked (a *fingerprint*) and which distributions it left behind;
a later identical step whose distributions are all still there is skipped
after reading one small JSON file and listing site-packages.

The state lives in ``<env>/.ghostenv/state.json`` so that deleting the
environment deletes it. Stdlib only: the skip path must stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

STATE_DIR = ".ghostenv"
STATE_FILE = "state.json"
LOG_FILE = "events.jsonl"
#: The event log is cut to its newer half when it grows past this many bytes.
LOG_LIMIT = 256 * 1024
#: Files whose content decides what building a local project produces.
_PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
#: Directories never part of a project's source when stamping a local path.
_SKIP_DIRS = frozenset({".git", ".hg", ".nox", ".tox", ".venv", "venv", "build", "dist",
                        "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                        "node_modules"})
#: Options of pip-style install arguments that take a file argument.
_FILE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint"})


def normalize(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def installed(env: Path) -> dict[str, str]:
    """``normalized name -> version`` of the distributions in ``env`` (dist-info names only).

    Reads directory names, never files: a few hundred microseconds for a
    typical test environment.
    """
    found: dict[str, str] = {}
    for site in _site_dirs(env):
        try:
            entries = os.listdir(site)
        except OSError:
            continue
        for entry in entries:
            if entry.endswith(".dist-info"):
                name, _, version = entry[: -len(".dist-info")].partition("-")
                found[normalize(name)] = version
    return found


def _site_dirs(env: Path) -> Iterator[Path]:
    for lib in ("lib", "lib64"):
        try:
            names = os.listdir(env / lib)
        except OSError:
            continue
        for name in names:
            if name.startswith(("python", "pypy")):
                yield env / lib / name / "site-packages"
        return
    yield env / "Lib" / "site-packages"


def _tree_stamp(root: Path, limit: int = 5000) -> str:
    """Newest mtime and file count under ``root`` (source tree of a local requirement)."""
    newest = 0
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info")]
        for name in filenames:
            with contextlib.suppress(OSError):
                newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime_ns)
            count += 1
            if count >= limit:
                return f"{newest}:{count}+"
    return f"{newest}:{count}"


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _local_path(arg: str, cwd: Path) -> Path | None:
    """The file or directory a requirement argument names, if it is local (``.``, ``./x[e]``)."""
    base = arg.split("[", 1)[0]
    if base.startswith("file:"):
        from urllib.parse import unquote, urlparse

        base = unquote(urlparse(base).path)
    if not (base.startswith((".", "/", "~")) or os.sep in base):
        return None
    path = (cwd / Path(base).expanduser()).resolve()
    return path if path.exists() else None


def fingerprint(args: Iterable[str], *, cwd: Path, extra: Mapping[str, str] = {}) -> str:
    """A digest of what an install step asks for, including what local files say.

    Requirement strings are taken literally. ``-r``/``-c`` files and local
    wheels or sdists contribute their content; an editable local project its
    metadata files (its code is linked, not copied); a non-editable local
    directory the newest mtime of its source tree. A local file counts by name
    and content, not path: tox builds its package into a new directory each
    run. ``extra`` adds context such as the index URL and interpreter.
    """
    digest = hashlib.sha256()
    items = list(args)
    editable_next = False
    file_next = False
    for arg in items:
        local = None if file_next or arg.startswith("-") else _local_path(arg, cwd)
        if local is not None and local.is_file():  # a wheel or sdist (tox's package)
            digest.update(b"\0file:" + local.name.encode() + _file_digest(local).encode())
            editable_next = False
            continue
        digest.update(b"\0arg:" + arg.encode())
        if file_next:
            digest.update(_file_digest(cwd / arg).encode())
            file_next = False
        elif arg in _FILE_OPTIONS:
            file_next = True
            continue
        elif arg in ("-e", "--editable"):
            editable_next = True
            continue
        elif local is not None and editable_next:
            for name in _PROJECT_FILES:
                digest.update(_file_digest(local / name).encode())
        elif local is not None:
            digest.update(_tree_stamp(local).encode())
        editable_next = False
    for key in sorted(extra):
        digest.update(f"\0{key}={extra[key]}".encode())
    return digest.hexdigest()


def requested_names(args: Iterable[str], *, cwd: Path) -> set[str]:
    """Normalized names the arguments ask for by name (requirement strings, ``-r`` file lines).

    Local paths and URLs are left out (their name is known only after a build).
    """
    from packaging.requirements import InvalidRequirement, Requirement

    def names(items: Iterable[str]) -> Iterator[str]:
        for item in items:
            text = item.split("#", 1)[0].strip()
            if not text or text.startswith("-") or _local_path(text, cwd) is not None:
                continue
            with contextlib.suppress(InvalidRequirement):
                yield normalize(Requirement(text).name)

    found: set[str] = set()
    plain: list[str] = []
    items = list(args)
    for i, arg in enumerate(items):
        if arg in ("-r", "--requirement") and i + 1 < len(items):
            with contextlib.suppress(OSError):
                found |= set(names((cwd / items[i + 1]).read_text("utf-8").splitlines()))
        elif i and items[i - 1] in _FILE_OPTIONS | {"-e", "--editable"}:
            continue
        else:
            plain.append(arg)
    return found | set(names(plain))


class EnvState:
    """The stamps recorded in one environment, read once and written atomically."""

    def __init__(self, env: Path) -> None:
        self.env = Path(env)
        self.dir = self.env / STATE_DIR
        self.path = self.dir / STATE_FILE
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}

    def steps(self) -> dict[str, Any]:
        steps = self.data.setdefault("steps", {})
        assert isinstance(steps, dict)
        return steps

    def fresh(self, key: str, fp: str, have: Mapping[str, str] | None = None) -> bool:
        """True when step ``key`` last ran with fingerprint ``fp`` and its results are present.

        The results are the distributions the step added or changed; each must
        still be installed at the recorded version (another step or a human may
        have removed or replaced one since).
        """
        step = self.steps().get(key)
        if not isinstance(step, dict) or step.get("fingerprint") != fp:
            return False
        left = step.get("dists", {})
        if not isinstance(left, dict):
            return False
        if not left:
            return True
        current = installed(self.env) if have is None else have
        return all(current.get(name) == version for name, version in left.items())

    def record(self, key: str, fp: str, before: Mapping[str, str],
               after: Mapping[str, str], *, merge: bool = True, also: Iterable[str] = (),
               **info: Any) -> None:
        """Remember step ``key``: its fingerprint and what it changed (``after`` - ``before``).

        What the step put in the environment on earlier runs and is still there
        stays its own (unless not ``merge``): a requirements file that gained a
        line must not let the packages of the other lines fall out of what a
        later exact sync keeps. ``also`` names distributions the step asked for
        that were already installed (by a sync, say): they are the step's too.
        """
        changed = {n: v for n, v in after.items() if before.get(n) != v}
        changed.update({n: after[n] for n in also if n in after})
        old = self.steps().get(key)
        earlier = old.get("dists", {}) if isinstance(old, dict) else {}
        if merge and isinstance(earlier, dict):
            changed = {**{n: after[n] for n in earlier if n in after}, **changed}
        self.steps()[key] = {"fingerprint": fp, "dists": changed, **info}
        self.save()

    def owned(self, kind: str) -> set[str]:
        """Names of the distributions steps whose key starts with ``kind`` put in the env."""
        names: set[str] = set()
        for key, step in self.steps().items():
            if key.startswith(kind) and isinstance(step, dict):
                names |= set(step.get("dists", {}))
        return names

    def save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{STATE_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)

    def log(self, event: str, **fields: Any) -> None:
        """Append one event (JSON line) to ``<env>/.ghostenv/events.jsonl`` for tests and users."""
        self.dir.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"event": event, "time": round(time.time(), 3), **fields},
                          sort_keys=True)
        path = self.dir / LOG_FILE
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            size = handle.tell()
        if size > LOG_LIMIT:  # keep the newer half, whole lines only
            text = path.read_text("utf-8")
            tail = text[len(text) // 2:]
            tmp = self.dir / f".{LOG_FILE}.{os.getpid()}"
            tmp.write_text(tail[tail.find("\n") + 1:], "utf-8")
            os.replace(tmp, path)


def read_events(env: Path) -> list[dict[str, Any]]:
    """Every event logged in ``env`` (oldest first); empty when none."""
    try:
        text = (Path(env) / STATE_DIR / LOG_FILE).read_text("utf-8")
    except OSError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
