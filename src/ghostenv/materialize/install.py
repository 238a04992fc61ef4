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
import contextlib
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
from ghostenv.materialize.link import Linker, LinkMode, place
from ghostenv.store import ManifestFile, Store, WheelManifest

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


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write a generated file through a temp name and a rename.

    Never written in place: the old file may be a hardlink into the store,
    and opening it for writing (as root, read-only bits do not stop that)
    would change the store for every environment.
    """
    temp = f"{path}.ghostenv-tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    if mode & 0o111:
        os.chmod(temp, mode)  # the umask may have taken the x bits
    os.replace(temp, path)


def _make_dirs(dirs: Mapping[str, str], wheel: str) -> None:
    """Create every directory a wheel needs, refusing symlinks that lead out of their base.

    ``dirs`` maps each directory to its scheme base. Member paths were checked
    lexically when the wheel was stored (no ``..``, not absolute); what is left
    is a symlinked directory already in the environment pointing elsewhere. A
    directory this call creates is safe when its parent is, so only directories
    that existed before cost a check (one ``lstat``), and only symlinks a
    ``realpath``. Parents come before children because shorter paths sort first.
    """
    real_bases: dict[str, str] = {}
    for directory in sorted(dirs, key=len):
        base = dirs[directory]
        if directory == base:
            os.makedirs(base, exist_ok=True)
            continue
        try:
            os.mkdir(directory)
            continue
        except FileExistsError:
            pass
        if os.path.islink(directory):
            real_base = real_bases.get(base) or real_bases.setdefault(base,
                                                                      os.path.realpath(base))
            real = os.path.realpath(directory)
            if os.path.commonpath([real_base, real]) != real_base:
                raise WheelError(f"{wheel}: {directory} is a symlink leading outside {base}",
                                 hint="the environment has a symlink that points elsewhere; "
                                      "remove it")
        elif not os.path.isdir(directory):
            raise InstallError(f"{wheel}: {directory} exists and is not a directory",
                               hint="remove that file from the environment and retry")


def _with_parents(dirs: dict[str, str]) -> dict[str, str]:
    """Add the missing ancestors (up to each base) so they are created in order."""
    out = dict(dirs)
    for directory, base in dirs.items():
        current = directory
        while current != base and len(current) > len(base):
            current = current.rpartition("/")[0]
            if current in out:
                break
            out[current] = base
    return out


def _b64_hex(sha256: str) -> str:
    return "sha256=" + base64.urlsafe_b64encode(bytes.fromhex(sha256)).rstrip(b"=").decode(
        "ascii")


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
    share_record: bool = False,
) -> InstallResult:
    """Materialize ``manifest`` into the environment described by ``scheme``.

    ``supported_tags`` (``"cp312-cp312-manylinux_2_17_x86_64"`` style strings)
    are checked first; pass None only when the caller already chose a
    compatible wheel.

    The work is plain syscalls on strings (no ``pathlib`` per file): one
    ``mkdir`` per directory, one ``link`` per file once the mode for this
    (store, environment) filesystem pair is known. With ``share_record``,
    INSTALLER, and RECORD when the wheel has no launchers or scripts (it is
    then identical in every environment of the same layout), are stored as
    objects and linked like the wheel's own files, so ten environments do not
    hold ten copies. It is off by default: the wheel spec's installer owns these
    files, and a tool that edits RECORD in place (or appends to it) must never
    reach through a hard link into the store; writing them costs ~2% more disk
    over ten environments (1.09x instead of 1.07x of one).
    """
    if supported_tags is not None:
        check_tags(manifest, supported_tags)
    missing = [k for k in SCHEME_KEYS if k not in scheme]
    if missing:
        raise InstallError(f"scheme for {manifest.name} lacks {', '.join(missing)}")
    paths = {k: os.path.abspath(os.fspath(scheme[k])) for k in SCHEME_KEYS}
    root = paths["purelib"] if manifest.root_is_purelib else paths["platlib"]
    linker = linker or Linker()
    python = os.fspath(interpreter)
    wheel = manifest.filename
    data_prefix = manifest.data_dir + "/"
    cut = len(data_prefix)
    generated = {f"{manifest.dist_info}/{name}" for name in _GENERATED}
    rel_base: dict[str, str] = {"root": ""}

    def rel(part: str) -> str:
        found = rel_base.get(part)
        if found is None:
            found = rel_base[part] = os.path.relpath(paths[part], root).replace(os.sep, "/") + "/"
        return found

    # 1. where every file goes, and the directories that takes
    placed: list[tuple[str, ManifestFile, str, str]] = []  # (part, item, target, record path)
    dirs: dict[str, str] = {root: root}
    for item in manifest.files:
        path = item.path
        if path in generated:
            continue
        if path.startswith(data_prefix):
            part, _, rest = path[cut:].partition("/")
            if part not in paths or not rest:
                raise WheelError(f"{wheel}: unknown .data scheme part in {path!r}")
            base = paths[part]
            placed.append((part, item, f"{base}/{rest}", rel(part) + rest))
        else:
            part, base, rest = "root", root, path
            placed.append((part, item, f"{root}/{path}", path))
        parent = f"{base}/{rest}".rpartition("/")[0]
        if parent not in dirs:
            dirs[parent] = base
    scripts = (*manifest.console_scripts, *manifest.gui_scripts)
    for name, _entry in scripts:
        if "/" in name or name in ("", ".", ".."):
            raise WheelError(f"{wheel}: entry point name {name!r} is not a file name")
    if scripts:
        dirs.setdefault(paths["scripts"], paths["scripts"])
    dist_info = f"{root}/{manifest.dist_info}"
    dirs.setdefault(dist_info, root)
    _make_dirs(_with_parents(dirs), wheel)

    # 2. link (or, for .data/scripts, rewrite) every file. Executables wait until a plain
    # file has shown which mode works: with hardlinks they link the store's executable twin.
    record: list[tuple[str, str, int]] = []
    modes: Counter[str] = Counter()
    state: dict[str, LinkMode] = {}
    deferred: list[tuple[ManifestFile, str, str]] = []
    for part, item, target, record_path in placed:
        if part == "scripts":
            data = _read_object(store, item, wheel)
            if data.startswith(b"#!python"):
                data = _shebang(python) + data.partition(b"\n")[2]
            _write(target, data, 0o755)
            record.append((record_path, _b64_sha256(data), len(data)))
            modes["written"] += 1
        elif item.executable and "fast" not in state and linker.custom is None:
            deferred.append((item, target, record_path))
        else:
            used = _link_member(store, linker, item, target, state=state, wheel=wheel)
            modes[used.value] += 1
            record.append((record_path, _b64_hex(item.sha256), item.size))
    for item, target, record_path in deferred:
        used = _link_member(store, linker, item, target, state=state, wheel=wheel)
        modes[used.value] += 1
        record.append((record_path, _b64_hex(item.sha256), item.size))

    # 3. launchers and the installer's own files
    scripts_rel = rel("scripts") if scripts else ""
    for name, entry in scripts:
        data = launcher(python, entry)
        _write(f"{paths['scripts']}/{name}", data, 0o755)
        record.append((scripts_rel + name, _b64_sha256(data), len(data)))
        modes["written"] += 1

    extra: list[tuple[str, bytes]] = [("INSTALLER", f"{installer}\n".encode())]
    if requested:
        extra.append(("REQUESTED", b""))
    if direct_url is not None:
        extra.append(("direct_url.json", json.dumps(dict(direct_url), sort_keys=True).encode()))
    for name, data in extra:
        if share_record and name == "INSTALLER":
            _link_generated(store, linker, data, f"{dist_info}/{name}")
        else:
            _write(f"{dist_info}/{name}", data)
        record.append((f"{manifest.dist_info}/{name}", _b64_sha256(data), len(data)))

    text = _record_text(record, f"{manifest.dist_info}/RECORD")
    # A RECORD that lists launchers or rewritten scripts holds this environment's own
    # interpreter path (in their digests): no other environment can share it, so storing
    # it would only litter the store (and cost an fsync per new environment).
    per_env = bool(scripts) or any(part == "scripts" for part, *_ in placed)
    if share_record and not per_env:
        _link_generated(store, linker, text, f"{dist_info}/RECORD")
    else:
        _write(f"{dist_info}/RECORD", text)
    return InstallResult(dist_info=Path(dist_info), files=len(record) + 1, modes=modes)


def _read_object(store: Store, item: ManifestFile, wheel: str) -> bytes:
    source = store.member_path(item)
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise _missing(wheel, item, source) from exc


def _missing(wheel: str, item: ManifestFile, source: str) -> StoreError:
    return StoreError(f"{wheel}: store object for {item.path} is missing ({source})",
                      hint="the store was pruned or repaired meanwhile; add the wheel "
                           "again (`ghostenv cache verify` checks the rest)")


def _link_member(store: Store, linker: Linker, item: ManifestFile, target: str, *,
                 state: dict[str, LinkMode], wheel: str) -> LinkMode:
    """Link one member; ``state["fast"]`` remembers the mode a plain file got.

    After the first plain file, plain files go straight to that mode's syscall
    (``place``) without the linker's bookkeeping; an executable is hardlinked to
    the store's executable twin when hardlinks work, else cloned or copied and
    given its x bits.
    """
    source = store.member_path(item)
    fast = state.get("fast")
    try:
        if item.executable and fast is LinkMode.HARDLINK and linker.custom is None:
            if not os.path.exists(source):  # a store from before executables had a tree
                source = store.executable_object(item.sha256)
            place(source, target, LinkMode.HARDLINK)
            return LinkMode.HARDLINK
        if fast is not None and not item.executable and linker.custom is None:
            try:
                place(source, target, fast)
                return fast
            except FileNotFoundError:
                raise
            except OSError:
                return linker.link(source, target)
        used = linker.link(source, target, writable=item.executable)
    except FileNotFoundError as exc:
        if os.path.exists(source):
            raise
        raise _missing(wheel, item, source) from exc
    if item.executable:
        if used in (LinkMode.CLONE, LinkMode.COPY):
            os.chmod(target, 0o755)
    else:
        state["fast"] = used
    return used


def _link_generated(store: Store, linker: Linker, data: bytes, target: str) -> None:
    """Put installer-written bytes in the store (once) and link them like wheel files.

    Written to a temp name and renamed, so a reader (or a crash) never sees a
    RECORD that is half there: its presence marks a complete install.
    """
    if linker.requested in (LinkMode.COPY, LinkMode.SYMLINK):
        _write(target, data)  # a symlink would dangle after a prune; a copy gains nothing
        return
    sha = hashlib.sha256(data).hexdigest()
    source = store.object_str(sha)
    if not os.path.exists(source):
        store.put_bytes(data)
    temp = f"{target}.ghostenv-tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(temp)
    linker.link(source, temp)
    os.replace(temp, target)


def _record_text(rows: list[tuple[str, str, int]], record: str) -> bytes:
    """RECORD as CSV, paths relative to the directory holding the dist-info (as pip writes)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    writer.writerow([record, "", ""])
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
