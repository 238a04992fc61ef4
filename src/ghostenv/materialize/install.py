"""Installing a stored wheel into an environment, per the binary distribution format spec.

Input is a :class:`~ghostenv.store.WheelManifest` (no zip is opened), the
environment's scheme paths (``purelib``, ``platlib``, ``scripts``, ``headers``,
``data``, as ``sysconfig.get_paths()`` names them) and its interpreter. Files
are linked from the store; what the installer has to produce itself -- entry
point launchers, ``.data/scripts`` with a ``#!python`` shebang, RECORD,
INSTALLER, REQUESTED, ``direct_url.json`` -- is written, never linked, so the
store is never edited through an environment.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ghostenv.errors import InstallError, StoreError, WheelError
from ghostenv.materialize.link import Linker, LinkMode
from ghostenv.store import Store, WheelManifest

SCHEME_KEYS = ("purelib", "platlib", "scripts", "headers", "data")
#: Files the installer writes itself; the wheel's own copies (if any) are ignored.
_GENERATED = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


@dataclass(frozen=True, slots=True)
class InstallResult:
    """What one install did: where the dist-info landed, files and link modes used."""

    dist_info: Path
    files: int
    modes: Counter[str] = field(default_factory=Counter)


def check_tags(manifest: WheelManifest, supported_tags: Collection[str]) -> None:
    """WheelError unless one of the wheel's tags is among the interpreter's supported tags."""
    if not any(tag in supported_tags for tag in manifest.tags):
        raise WheelError(
            f"{manifest.filename}: tags {', '.join(manifest.tags)} are not supported "
            "by the target interpreter",
            hint="pick a wheel built for this Python and platform, or build from the sdist",
        )


class _Guard:
    """Checks that targets stay inside their scheme directory, symlinks included.

    Member paths were already checked lexically when the wheel was stored (no
    ``..``, not absolute); what remains is a symlinked directory in the
    environment pointing elsewhere, so each parent directory is resolved once.
    """

    def __init__(self, wheel: str) -> None:
        self.wheel = wheel
        self._real: dict[str, str] = {}
        self._ok: set[tuple[str, str]] = set()

    def check(self, base: Path, target: Path, entry: str) -> None:
        parent = os.path.dirname(target)
        key = (str(base), parent)
        if key in self._ok:
            return
        real_base = self._real.get(key[0]) or self._real.setdefault(key[0],
                                                                    os.path.realpath(base))
        if os.path.commonpath([real_base, os.path.realpath(parent)]) != real_base:
            raise WheelError(f"{self.wheel}: entry {entry!r} would be written outside {base}",
                             hint="the wheel (or a symlink in the environment) points elsewhere")
        if os.path.isdir(parent):
            self._ok.add(key)


def _b64_sha256(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _shebang(interpreter: str) -> bytes:
    """A shebang that works for any interpreter path (long or with spaces: via /bin/sh)."""
    if " " not in interpreter and len(interpreter) < 127:
        return f"#!{interpreter}\n".encode()
    quoted = interpreter.replace("'", "'\"'\"'")
    return f"#!/bin/sh\n'''exec' '{quoted}' \"$0\" \"$@\"\n' '''\n".encode()


def launcher(interpreter: str, target: str) -> bytes:
    """The text of a console/GUI script for an entry point ``module:attr.path [extras]``."""
    spec = target.split("[", 1)[0].strip()
    module, _, attrs = spec.partition(":")
    module = module.strip()
    attrs = attrs.strip()
    if not module or not attrs:
        raise WheelError(f"entry point {target!r} is not of the form module:attribute")
    head, _, rest = attrs.partition(".")
    call = f"{head}.{rest}" if rest else head
    body = (
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {module} import {head}\n"
        "if __name__ == '__main__':\n"
        "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
        f"    sys.exit({call}())\n"
    )
    return _shebang(interpreter) + body.encode()


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.ghostenv-tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
    os.chmod(temp, mode)
    os.replace(temp, path)


def install_wheel(
    manifest: WheelManifest,
    store: Store,
    scheme: Mapping[str, str | os.PathLike[str]],
    *,
    interpreter: str | os.PathLike[str],
    supported_tags: Collection[str] | None,
    linker: Linker | None = None,
    requested: bool = False,
    direct_url: Mapping[str, Any] | None = None,
    installer: str = "ghostenv",
) -> InstallResult:
    """Materialize ``manifest`` into the environment described by ``scheme``.

    ``supported_tags`` (``"cp312-cp312-manylinux_2_17_x86_64"`` style strings)
    are checked first; pass None only when the caller already chose a
    compatible wheel.
    """
    if supported_tags is not None:
        check_tags(manifest, supported_tags)
    missing = [k for k in SCHEME_KEYS if k not in scheme]
    if missing:
        raise InstallError(f"scheme for {manifest.name} lacks {', '.join(missing)}")
    paths = {k: Path(scheme[k]) for k in SCHEME_KEYS}
    root = paths["purelib"] if manifest.root_is_purelib else paths["platlib"]
    linker = linker or Linker()
    python = os.fspath(interpreter)
    wheel = manifest.filename
    data_prefix = manifest.data_dir + "/"
    generated = {f"{manifest.dist_info}/{name}" for name in _GENERATED}
    record: list[tuple[Path, str, int]] = []
    modes: Counter[str] = Counter()
    made_dirs: set[Path] = set()

    guard = _Guard(wheel)
    for item in manifest.files:
        if item.path in generated:
            continue
        if item.path.startswith(data_prefix):
            part, _, rest = item.path[len(data_prefix):].partition("/")
            if part not in paths or not rest:
                raise WheelError(f"{wheel}: unknown .data scheme part in {item.path!r}")
            base = paths[part]
            target = base / rest
        else:
            part, base = "root", root
            target = root / item.path
        guard.check(base, target, item.path)
        if target.parent not in made_dirs:
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.add(target.parent)
            guard.check(base, target, item.path)  # again, now that the directories exist
        source = store.object_path(item.sha256)
        if part == "scripts":
            data = source.read_bytes()
            if data.startswith(b"#!python"):
                _, _, tail = data.partition(b"\n")
                data = _shebang(python) + tail
            _write(target, data, 0o755)
            record.append((target, _b64_sha256(data), len(data)))
            modes["written"] += 1
            continue
        try:
            used = linker.link(source, target, writable=item.executable)
        except FileNotFoundError as exc:
            if source.exists():
                raise
            raise StoreError(f"{wheel}: store object for {item.path} is missing ({source})",
                             hint="the store was pruned or repaired meanwhile; add the wheel "
                                  "again (`ghostenv cache verify` checks the rest)") from exc
        if item.executable and used in (LinkMode.CLONE, LinkMode.COPY):
            os.chmod(target, 0o755)
        modes[used.value] += 1
        digest = "sha256=" + base64.urlsafe_b64encode(
            bytes.fromhex(item.sha256)).rstrip(b"=").decode("ascii")
        record.append((target, digest, item.size))

    for name, entry in (*manifest.console_scripts, *manifest.gui_scripts):
        if "/" in name or name in ("", ".", ".."):
            raise WheelError(f"{wheel}: entry point name {name!r} is not a file name")
        target = paths["scripts"] / name
        guard.check(paths["scripts"], target, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = launcher(python, entry)
        _write(target, data, 0o755)
        record.append((target, _b64_sha256(data), len(data)))
        modes["written"] += 1

    dist_info = root / manifest.dist_info
    extra: list[tuple[str, bytes]] = [("INSTALLER", f"{installer}\n".encode())]
    if requested:
        extra.append(("REQUESTED", b""))
    if direct_url is not None:
        extra.append(("direct_url.json", json.dumps(dict(direct_url), sort_keys=True).encode()))
    for name, data in extra:
        _write(dist_info / name, data)
        record.append((dist_info / name, _b64_sha256(data), len(data)))

    _write(dist_info / "RECORD", _record_text(record, root, dist_info / "RECORD"))
    return InstallResult(dist_info=dist_info, files=len(record) + 1, modes=modes)


def _record_text(rows: list[tuple[Path, str, int]], root: Path, record: Path) -> bytes:
    """RECORD as CSV, paths relative to the directory holding the dist-info (as pip writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, digest, size in rows:
        writer.writerow([Path(os.path.relpath(path, root)).as_posix(), digest, size])
    writer.writerow([Path(os.path.relpath(record, root)).as_posix(), "", ""])
    return out.getvalue().encode("utf-8")


def compile_bytecode(interpreter: str | os.PathLike[str], files: list[Path],
                     *, workers: int = 0) -> None:
    """Byte-compile installed ``.py`` files with the environment's own interpreter.

    One ``compileall`` run for the whole environment (``-j 0`` = one worker
    per CPU), fed the file list on stdin, rather than one process per wheel.
    Failures to compile (a module with syntax for a newer Python) are not
    fatal, as with pip; the interpreter compiles lazily at import anyway.
    """
    import subprocess

    sources = [os.fspath(f) for f in files if f.suffix == ".py"]
    if not sources:
        return
    subprocess.run(
        [os.fspath(interpreter), "-m", "compileall", "-q", "-j", str(workers), "-i", "-"],
        input="\n".join(sources) + "\n", text=True, capture_output=True, check=False,
    )
