"""Installing stored wheels into an environment, per the binary distribution format spec.

Input is each wheel's :class:`~ghostenv.store.LinkIndex` (its manifest compiled
for installing: no zip is opened, no digest encoded), the environment's scheme
paths (``purelib``, ``platlib``, ``scripts``, ``headers``, ``data``, as
``sysconfig.get_paths()`` names them) and its interpreter. Files are linked
from the store; what the installer has to produce itself -- entry point
launchers, ``.data/scripts`` with a ``#!python`` shebang, RECORD, INSTALLER,
REQUESTED, ``direct_url.json`` -- is written, never linked, so the store is
never edited through an environment.

:func:`install_many` installs several wheels together in three phases, each
spread over a few threads: every directory, then every file, then each wheel's
generated files with its RECORD last. RECORD marks a complete install, so a
process killed anywhere before it leaves a dist-info the next plan redoes.
With hardlinks (the usual mode) a file costs one ``link`` call relative to
two directory descriptors (object tree, site-packages) and no other Python
work; the syscalls release the GIL, so two cores link two files at once.
"""

from __future__ import annotations

import os

from ghostenv._fast import sha256_hex, suppress
from ghostenv.errors import InstallError, StoreError, WheelError
from ghostenv.materialize.batch import Linking, check_existing_dir, missing_object, place_trees
from ghostenv.materialize.link import Linker, LinkMode
from ghostenv.store.manifest import LinkIndex, object_rel, record_field, record_hash_few
from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from ghostenv.store import Store, WheelManifest

SCHEME_KEYS = ("purelib", "platlib", "scripts", "headers", "data")


@record()
class InstallResult:
    """What one install did: where the dist-info landed, files and link modes used."""

    dist_info_str: str
    files: int
    modes: dict[str, int]

    @property
    def dist_info(self) -> Path:
        """The installed ``.dist-info`` directory."""
        from pathlib import Path

        return Path(self.dist_info_str)


@record()
class Job:
    """One wheel for :func:`install_many`: its index, its scheme and what to record.

    ``scheme`` maps every key of :data:`SCHEME_KEYS` to an absolute directory.
    """

    index: LinkIndex
    scheme: Mapping[str, str]
    requested: bool = False
    direct_url: Mapping[str, Any] | None = None


def check_tags(manifest: WheelManifest | LinkIndex, supported_tags: Collection[str]) -> None:
    """WheelError unless one of the wheel's tags is among the interpreter's supported tags."""
    if not any(tag in supported_tags for tag in manifest.tags):
        raise WheelError(
            f"{manifest.filename}: tags {', '.join(manifest.tags)} are not supported "
            "by the target interpreter",
            hint="pick a wheel built for this Python and platform, or build from the sdist",
        )


#: Digests of the installer's constant files, so most wheels hash nothing at all.
_KNOWN_DIGESTS = {b"": "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
                  b"ghostenv\n": "sha256=Z1op0tR5juB_Y4zSw99fC3dozt6Tzj8qhcpUTLqLwX8"}


def _digest(data: bytes) -> str:
    """RECORD's ``sha256=...`` of bytes the installer wrote itself."""
    known = _KNOWN_DIGESTS.get(data)
    if known is not None:
        return known
    return record_hash_few(sha256_hex(data))


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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write a generated file through a temp name and a rename.

    Never written in place: the old file may be a hardlink into the store,
    and opening it for writing (as root, read-only bits do not stop that)
    would change the store for every environment. RECORD always comes this
    way, so it is either absent or whole.
    """
    temp = f"{path}.ghostenv-tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    if mode & 0o111:
        os.chmod(temp, mode)  # the umask may have taken the x bits
    os.replace(temp, path)


def _write_new(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write a generated file that is normally not there yet: created in place, no rename.

    An existing file (a reinstall) goes through :func:`_write`. A crash midway
    leaves a partial file but no RECORD, so the next plan reinstalls the wheel.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        _write(path, data, mode)
        return
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)
    if mode & 0o111:
        os.chmod(path, mode)


def _make_dirs(dirs: Mapping[str, str], wheel: str) -> None:
    """Create absolute directories (each mapped to its scheme base), parents first."""
    for directory in sorted(dirs, key=len):
        base = dirs[directory]
        if directory == base:
            os.makedirs(base, exist_ok=True)
            continue
        try:
            os.mkdir(directory)
        except FileExistsError:
            check_existing_dir(directory, base, wheel)


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
    """Materialize one wheel into the environment described by ``scheme``.

    ``supported_tags`` (``"cp312-cp312-manylinux_2_17_x86_64"`` style strings)
    are checked first; pass None only when the caller already chose a
    compatible wheel. A missing store object raises :class:`StoreError`.

    With ``share_record``, INSTALLER, and RECORD when the wheel has no
    launchers or scripts (it is then identical in every environment of the
    same layout), are stored as objects and linked like the wheel's own files,
    so ten environments do not hold ten copies. It is off by default: the
    wheel spec's installer owns these files, and a tool that edits RECORD in
    place (or appends to it) must never reach through a hard link into the
    store; writing them costs ~2% more disk over ten environments.
    """
    if supported_tags is not None:
        check_tags(manifest, supported_tags)
    missing = [k for k in SCHEME_KEYS if k not in scheme]
    if missing:
        raise InstallError(f"scheme for {manifest.name} lacks {', '.join(missing)}")
    paths = {k: os.path.abspath(os.fspath(scheme[k])) for k in SCHEME_KEYS}
    job = Job(LinkIndex.compile(manifest), paths, requested, direct_url)
    result = install_many([job], store, interpreter=interpreter, linker=linker,
                          installer=installer, share_record=share_record)[0]
    if isinstance(result, StoreError):
        raise result
    return result


@record()
class _Prepared:
    """One job, checked and placed: its root, ``.data`` targets and launchers."""

    job: Job
    root: str
    data: list[tuple[str, str, str, bool, int, str]]  # part, target, object, exec, size, record
    data_dirs: dict[str, str]
    scripts: tuple[tuple[str, str], ...]
    modes: dict[str, int]


def _prepare(job: Job) -> _Prepared:
    """Check a job before anything is touched: ``.data`` parts and launcher names."""
    index = job.index
    paths = job.scheme
    wheel = index.filename
    root = paths["purelib"] if index.root_is_purelib else paths["platlib"]
    prefix_len = len(index.data_dir) + 1
    rel_base: dict[str, str] = {}
    data = []
    data_dirs: dict[str, str] = {}
    for item in index.data:
        part, _, rest = item.path[prefix_len:].partition("/")
        if part not in paths or not rest:
            raise WheelError(f"{wheel}: unknown .data scheme part in {item.path!r}")
        base = paths[part]
        rel = rel_base.get(part)
        if rel is None:
            rel = rel_base[part] = os.path.relpath(base, root).replace(os.sep, "/") + "/"
        target = f"{base}/{rest}"
        data.append((part, target, object_rel(item.sha256), item.executable, item.size,
                     rel + rest))
        data_dirs[base] = base
        data_dirs.setdefault(target.rpartition("/")[0], base)
    scripts = (*index.console_scripts, *index.gui_scripts)
    for name, _entry in scripts:
        if "/" in name or name in ("", ".", ".."):
            raise WheelError(f"{wheel}: entry point name {name!r} is not a file name")
    if scripts:
        data_dirs[paths["scripts"]] = paths["scripts"]
    return _Prepared(job, root, data, _with_parents(data_dirs), scripts, {})


def install_many(jobs: Sequence[Job], store: Store, *, interpreter: str | os.PathLike[str],
                 linker: Linker | None = None, workers: int = 1, installer: str = "ghostenv",
                 share_record: bool = False) -> list[InstallResult | StoreError]:
    """Install every job's wheel; per job its result, or the StoreError of a missing object.

    Per top-level tree (``numpy``, a dist-info, ...): its directories, then its
    files, trees and chunks of files shared out to up to ``workers`` threads as
    they free up; each wheel's generated files are written by the thread that
    links its last file.
    Anything else that goes wrong (a symlink leading out of the environment, a
    file where a directory belongs) raises.
    """
    linker = linker or Linker()
    python = os.fspath(interpreter)
    prepared = [_prepare(job) for job in jobs]
    linking = Linking(store, linker, [p.job.index.filename for p in prepared])
    roots: dict[str, int] = {}
    for prep in prepared:
        if prep.root not in roots:
            os.makedirs(prep.root, exist_ok=True)
            roots[prep.root] = os.open(prep.root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # .data and scripts directories first (few; some may lie inside the trees below)
        for prep in prepared:
            _make_dirs(prep.data_dirs, prep.job.index.filename)
        results: dict[int, InstallResult] = {}

        def finish(number: int) -> None:
            """3. one wheel's .data files, launchers, installer files and RECORD (last)."""
            if number in linking.errors:
                return
            prep = prepared[number]
            for job, mode, count in list(linking.counts):
                if job == number:
                    prep.modes[mode] = prep.modes.get(mode, 0) + count
            result = _finish(prep, number, store=store, linking=linking, python=python,
                             installer=installer, share_record=share_record)
            if result is not None:
                results[number] = result

        # every tree's directories, then its files; each wheel finished by its last link
        place_trees([p.job.index for p in prepared], [p.root for p in prepared], roots, linking,
                    workers=workers, on_done=finish)
        for number in range(len(prepared)):  # wheels with nothing linked above
            if number not in results and number not in linking.errors:
                finish(number)
    finally:
        for fd in roots.values():
            os.close(fd)
    return [results[i] if i in results else linking.errors[i] for i in range(len(prepared))]


def _finish(prep: _Prepared, number: int, *, store: Store, linking: Linking, python: str,
            installer: str, share_record: bool) -> InstallResult | None:
    """Place ``.data`` files, write launchers and the installer's files, RECORD last."""
    job = prep.job
    index = job.index
    paths = job.scheme
    wheel = index.filename
    modes = prep.modes
    rows: list[str] = [index.record]
    for part, target, src_rel, executable, size, record_path in prep.data:
        if part == "scripts":
            source = f"{linking.exec_dir if executable else linking.plain_dir}/{src_rel}"
            try:
                with open(source, "rb") as handle:
                    data = handle.read()
            except FileNotFoundError:
                linking.errors[number] = missing_object(wheel, record_path, source)
                return None
            if data.startswith(b"#!python"):
                data = _shebang(python) + data.partition(b"\n")[2]
            _write(target, data, 0o755)
            rows.append(f"{record_field(record_path)},{_digest(data)},{len(data)}\n")
            modes["written"] = modes.get("written", 0) + 1
            continue
        try:
            used = linking.one(src_rel, target, executable)
        except FileNotFoundError:
            source = f"{linking.exec_dir if executable else linking.plain_dir}/{src_rel}"
            if os.path.exists(source) or os.path.exists(f"{linking.plain_dir}/{src_rel}"):
                raise
            linking.errors[number] = missing_object(wheel, record_path, source)
            return None
        modes[used.value] = modes.get(used.value, 0) + 1
        rows.append(f"{record_field(record_path)},{record_hash_few(src_rel.replace('/', ''))},"
                    f"{size}\n")

    scripts_rel = ""
    if prep.scripts:
        scripts_rel = os.path.relpath(paths["scripts"], prep.root).replace(os.sep, "/") + "/"
    for name, entry in prep.scripts:
        data = launcher(python, entry)
        _write_new(f"{paths['scripts']}/{name}", data, 0o755)
        rows.append(f"{record_field(scripts_rel + name)},{_digest(data)},{len(data)}\n")
        modes["written"] = modes.get("written", 0) + 1

    dist_info = f"{prep.root}/{index.dist_info}"
    extra: list[tuple[str, bytes]] = [("INSTALLER", f"{installer}\n".encode())]
    if job.requested:
        extra.append(("REQUESTED", b""))
    if job.direct_url is not None:
        import json

        extra.append(("direct_url.json",
                      json.dumps(dict(job.direct_url), sort_keys=True).encode()))
    for name, data in extra:
        if share_record and name == "INSTALLER":
            _link_generated(store, linking.linker, data, f"{dist_info}/{name}")
        elif name == "REQUESTED" and _link_constant(linking, data, f"{dist_info}/{name}"):
            modes["hardlink"] = modes.get("hardlink", 0) + 1
        else:
            _write_new(f"{dist_info}/{name}", data)
        rows.append(f"{record_field(f'{index.dist_info}/{name}')},{_digest(data)},{len(data)}\n")
    rows.append(f"{record_field(f'{index.dist_info}/RECORD')},,\n")
    text = "".join(rows).encode("utf-8")
    # A RECORD that lists launchers or rewritten scripts holds this environment's own
    # interpreter path (in their digests): no other environment can share it, so storing
    # it would only litter the store (and cost an fsync per new environment).
    per_env = bool(prep.scripts) or any(part == "scripts" for part, *_ in prep.data)
    if share_record and not per_env:
        _link_generated(store, linking.linker, text, f"{dist_info}/RECORD")
    else:
        _write(f"{dist_info}/RECORD", text)
    files = len(index.plain) + len(index.executables) + len(prep.data) + len(prep.scripts)
    return InstallResult(dist_info_str=dist_info, files=files + len(extra) + 1, modes=modes)


def constant_files(requested: bool, installer: str = "ghostenv") -> list[tuple[str, str]]:
    """The dist-info files an install hardlinks from the store rather than writes --
    REQUESTED (empty) when ``requested`` -- as ``(name, object)`` in the plain tree
    (``ab/cd/<rest>``; see :func:`_link_constant`). For :mod:`ghostenv.workflow.recipe`,
    which must know every hardlink an install makes. INSTALLER, RECORD, launchers and
    ``direct_url.json`` are written, never linked (issue 5's rule for the files an
    installer may rewrite); ``installer`` is accepted for callers of the older form."""
    from ghostenv.store.manifest import object_rel

    del installer
    return [("REQUESTED", object_rel(sha256_hex(b"")))] if requested else []


def _link_constant(linking: Linking, data: bytes, target: str) -> bool:
    """Hardlink the empty REQUESTED marker from the store; False when it must be written.

    Making a file costs an inode (40-150 us each on a journaled file system), a
    link ~10 us. Only in hardlink mode (the wheel's files are linked from the
    same tree, so the store is already shared with the environment the same
    way); the object is stored on first use (``put_small``: a race with another
    process is fine). REQUESTED is a marker: its presence is what it says, it
    has no bytes to edit, and installers remove it on uninstall.
    """
    if linking.mode is not LinkMode.HARDLINK or linking.linker.custom is not None:
        return False
    source = linking.constants.get(data)
    if source is None:
        source = f"{linking.plain_dir}/{object_rel(sha256_hex(data))}"
        try:
            if not os.path.exists(source):
                linking.store.put_small(data)
        except OSError:
            return False
        linking.constants[data] = source
    try:
        os.link(source, target)
    except OSError:  # already there (a reinstall), another file system, too many links
        return False
    return True


def _link_generated(store: Store, linker: Linker, data: bytes, target: str) -> None:
    """Put installer-written bytes in the store (once) and link them like wheel files.

    Written to a temp name and renamed, so a reader (or a crash) never sees a
    RECORD that is half there: its presence marks a complete install.
    """
    if linker.requested in (LinkMode.COPY, LinkMode.SYMLINK):
        _write(target, data)  # a symlink would dangle after a prune; a copy gains nothing
        return
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    source = store.object_str(sha)
    if not os.path.exists(source):
        store.put_bytes(data)
    temp = f"{target}.ghostenv-tmp"
    with suppress(FileNotFoundError):
        os.unlink(temp)
    linker.link(source, temp)
    os.replace(temp, target)


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
