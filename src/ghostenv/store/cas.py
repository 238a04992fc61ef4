"""The object store: content-addressed files, wheel manifests, verify/info/clean.

Layout under the store root::

    objects-v1/ab/cd/<rest of sha256>   one file per distinct content
    wheels-v1/ab/<sha256>.json          one manifest per wheel (keyed by the wheel's sha256)
    wheels-v1/ab/<sha256>.idx<m>        the manifest compiled for installing (marshal format m)
    tmp/                                unique temp files, same filesystem as objects

Every write goes to a unique temp file on the same filesystem, is fsynced and
then renamed into place. Two processes writing the same object race harmlessly:
both rename identical bytes to the same name. Manifest creation is additionally
serialised with a file lock so a wheel is unzipped once, not once per process.
"""

from __future__ import annotations

import marshal
import os
import time

from ghostenv._fast import read_file, suppress
from ghostenv.errors import HashMismatchError, StoreError, WheelError
from ghostenv.store.manifest import LinkIndex, ManifestFile, WheelManifest
from ghostenv.store.record import record
from ghostenv.store.refs import environments, forget, installed_wheels, path_key, track

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path
    from typing import IO, Any

OBJECTS = "objects-v1"
#: Executable twins of objects (mode 0555), so executables are hardlinked too.
EXEC_OBJECTS = "objects-x-v1"
WHEELS = "wheels-v1"
CHUNK = 1 << 20
#: A temp file untouched this long belongs to a writer that died.
STALE_TEMP_SECONDS = 3600


@record()
class StoreInfo:
    """Totals shown by ``ghostenv cache info``."""

    objects: int
    bytes: int
    wheels: int
    environments: int = 0


@record()
class PruneReport:
    """What ``prune`` removed."""

    wheels: int
    objects: int
    bytes: int


@record()
class VerifyReport:
    """Result of re-hashing every object: which were checked and which were corrupt."""

    checked: int
    corrupt: tuple[str, ...]
    removed: bool
    #: Where each corrupt object was (plain or executable tree), in ``corrupt``'s order.
    paths: tuple[str, ...] = ()


def _path(value: str | os.PathLike[str]) -> Path:
    """A Path, importing pathlib only on the paths that use one (not the install path)."""
    from pathlib import Path

    return Path(value)


def _fsync_dir(path: str | os.PathLike[str]) -> None:
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class Store:
    """A content-addressed store rooted at ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        # Strings: the install path imports no pathlib (~4 ms with what it pulls in); the
        # Path attributes below are made on first use, for everything else.
        self.root_dir = os.fspath(root)
        self.objects_dir = os.path.join(self.root_dir, OBJECTS)
        self.exec_objects_dir = os.path.join(self.root_dir, EXEC_OBJECTS)
        self.wheels_dir = os.path.join(self.root_dir, WHEELS)
        self._objects_str = self.objects_dir
        self._exec_str = self.exec_objects_dir

    @property
    def root(self) -> Path:
        """The store's directory."""
        from pathlib import Path

        return Path(self.root_dir)

    @property
    def objects(self) -> Path:
        """The tree of plain objects."""
        return self.root / OBJECTS

    @property
    def exec_objects(self) -> Path:
        """The tree of executable objects (mode 0555)."""
        return self.root / EXEC_OBJECTS

    @property
    def wheels(self) -> Path:
        """Where manifests and link indexes are kept."""
        return self.root / WHEELS

    @property
    def tmp(self) -> Path:
        """Temp files of writers (same filesystem as the objects)."""
        return self.root / "tmp"

    # -- objects -----------------------------------------------------------------

    def object_path(self, sha256: str) -> Path:
        """Where the object with this digest lives (whether or not it exists)."""
        return self.objects / sha256[:2] / sha256[2:4] / sha256[4:]

    def exec_object_path(self, sha256: str) -> str:
        """Where the executable (``0555``) object with this digest lives."""
        return f"{self._exec_str}/{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}"

    def object_str(self, sha256: str) -> str:
        """:meth:`object_path` as a string, built without pathlib (the linking hot path)."""
        return f"{self._objects_str}/{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}"

    def member_path(self, member: ManifestFile) -> str:
        """The object a wheel member is linked from: executables come from their own tree.

        Environments hardlink objects, and a hardlink shares the mode bits: if
        executables (every ``.so`` of a scientific wheel has its x bits) were
        stored ``0444``, each environment would need a private copy of them --
        that was most of the bytes ten environments cost. So the mode is part
        of an object's identity: the same bytes executable and not are two files.
        """
        if member.executable:
            return self.exec_object_path(member.sha256)
        return self.object_str(member.sha256)

    def executable_object(self, sha256: str) -> str:
        """The executable object for ``sha256``, made from the plain one if missing.

        Stores filled before executables had their own tree hold plain objects
        only; the twin is cloned (or copied) once, made ``0555`` and renamed in.
        """
        final = self.exec_object_path(sha256)
        if os.path.exists(final):
            return final
        from ghostenv.materialize.link import LinkMode, place

        os.makedirs(os.path.dirname(final), exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        temp = os.path.join(self.tmp, f"x-{os.getpid()}-{sha256[:16]}-{time.monotonic_ns()}")
        try:
            try:
                place(self.object_path(sha256), temp, LinkMode.CLONE)
            except OSError:
                place(self.object_path(sha256), temp, LinkMode.COPY)
            os.chmod(temp, 0o555)
            os.replace(temp, final)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        return final

    def has(self, sha256: str) -> bool:
        """True when the object is present."""
        return self.object_path(sha256).exists()

    def _temp(self) -> tuple[IO[bytes], Path]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        import tempfile  # imports random, hashlib...: only paid when writing

        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="obj-")
        return os.fdopen(fd, "wb"), _path(name)

    def put_stream(self, chunks: Iterable[bytes], *, expected_sha256: str | None = None,
                   label: str = "<stream>", batch: list[tuple[Path, str, bool]] | None = None,
                   executable: bool = False) -> str:
        """Store bytes arriving in chunks (a download), hashing while writing.

        A digest that disagrees with ``expected_sha256`` raises
        :class:`HashMismatchError` naming ``label`` and both digests; the
        partial temp file is removed either way. With ``batch``, the fsync and
        rename are left to :meth:`_commit_batch` (one sync for a whole wheel
        instead of one per member). ``executable`` files go to the executable
        tree (mode ``0555``), see :meth:`member_path`.
        """
        import hashlib

        digest = hashlib.sha256()
        handle, temp = self._temp()
        deferred = False
        try:
            with handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                if batch is None:
                    handle.flush()
                    os.fsync(handle.fileno())
            actual = digest.hexdigest()
            if expected_sha256 is not None and actual != expected_sha256.lower():
                raise HashMismatchError(
                    f"{label}: sha256 mismatch: expected {expected_sha256.lower()}, got {actual}",
                    hint="the file changed upstream or was corrupted; re-lock or retry",
                )
            if batch is None:
                self._commit(temp, actual, executable=executable)
            else:
                batch.append((temp, actual, executable))
                deferred = True
        finally:
            if not deferred:
                with suppress(FileNotFoundError):
                    temp.unlink()
        return actual

    def _commit_batch(self, batch: list[tuple[Path, str, bool]]) -> None:
        """Make a batch of temp files durable with one sync, then rename each into place.

        Syncing before any rename keeps the crash guarantee of the one-by-one
        path: an object name never points at bytes that were not yet on disk.
        """
        if not batch:
            return
        os.sync()
        try:
            for temp, sha, executable in batch:
                self._commit(temp, sha, sync_dir=False, executable=executable)
        finally:
            for temp, _, _ in batch:
                with suppress(FileNotFoundError):
                    temp.unlink()

    def put_bytes(self, data: bytes) -> str:
        """Store one blob; returns its sha256."""
        return self.put_stream([data])

    def put_small(self, data: bytes) -> str:
        """:meth:`put_bytes` for a few bytes, on the install path: no hashlib, tempfile or
        pathlib (the builtin sha256; a temp name from the pid, thread and clock), with
        the same guarantees (fsynced, read-only, linked in; a lost race is fine)."""
        import _thread

        from ghostenv._fast import sha256_hex

        sha = sha256_hex(data)
        final = self.object_str(sha)
        if os.path.exists(final):
            return sha
        tmp = os.path.join(self.root_dir, "tmp")
        os.makedirs(tmp, exist_ok=True)
        temp = os.path.join(tmp, f"s-{os.getpid()}-{_thread.get_ident()}-{time.monotonic_ns()}")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(temp, 0o444)
            parent = os.path.dirname(final)
            os.makedirs(parent, exist_ok=True)
            try:  # a link, not a rename: an object that won a race stays (it may be linked)
                os.link(temp, final)
            except FileExistsError:
                return sha
            _fsync_dir(parent)
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        return sha

    def put_file(self, path: Path, *, expected_sha256: str | None = None) -> str:
        """Store a file's content; returns its sha256."""
        def chunks() -> Iterator[bytes]:
            with open(path, "rb") as handle:
                while block := handle.read(CHUNK):
                    yield block
        return self.put_stream(chunks(), expected_sha256=expected_sha256, label=str(path))

    def _commit(self, temp: Path, sha256: str, *, sync_dir: bool = True,
                executable: bool = False) -> None:
        final = _path(self.exec_object_path(sha256)) if executable else self.object_path(sha256)
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        # Objects are shared by hardlinks into environments: keep them read-only.
        os.chmod(temp, 0o555 if executable else 0o444)
        os.replace(temp, final)  # losing a race to an identical writer is fine
        if sync_dir:
            _fsync_dir(final.parent)

    # -- wheels ------------------------------------------------------------------

    def manifest_path(self, wheel_sha256: str) -> Path:
        """Where the manifest of the wheel with this digest is stored."""
        return self.wheels / wheel_sha256[:2] / f"{wheel_sha256}.json"

    def link_index_path(self, wheel_sha256: str) -> str:
        """Where the compiled :class:`LinkIndex` of a wheel is kept (a derived, rebuildable file).

        The marshal format version is part of the name: another Python line
        that writes marshal differently keeps an index of its own.
        """
        return f"{self.wheels_dir}/{wheel_sha256[:2]}/{wheel_sha256}.idx{marshal.version}"

    def get_link_index(self, wheel_sha256: str) -> LinkIndex | None:
        """The wheel's :class:`LinkIndex`, compiled from its manifest (and kept) if need be.

        None when the wheel is not in the store. Objects are not checked (see
        :meth:`get_manifest`'s ``check_objects``): a missing one surfaces while linking.
        """
        path = self.link_index_path(wheel_sha256)
        try:
            return LinkIndex.from_bytes(read_file(path))
        except (OSError, ValueError):
            pass
        manifest = self.get_manifest(wheel_sha256, check_objects=False)
        if manifest is None:
            return None
        return self._save_index(manifest)

    def _save_index(self, manifest: WheelManifest) -> LinkIndex:
        """Compile and keep a wheel's index: renamed into place, not fsynced.

        It is derived from the (fsynced) manifest: an index torn by a crash
        fails to parse (marshal is strict about its length and types) and is
        compiled again, so an fsync per stored wheel would buy nothing.
        """
        index = LinkIndex.compile(manifest)
        target = self.link_index_path(manifest.wheel_sha256)
        temp = f"{target}.{os.getpid()}-{time.monotonic_ns()}.tmp"
        try:
            with open(temp, "wb") as handle:
                handle.write(index.to_bytes())
            os.replace(temp, target)
        except OSError:  # a cache we cannot write only costs speed
            with suppress(OSError):
                os.unlink(temp)
        return index

    def forget_wheel(self, wheel_sha256: str) -> None:
        """Drop a wheel's manifest and link index, so the next add unpacks it again."""
        self.manifest_path(wheel_sha256).unlink(missing_ok=True)
        with suppress(FileNotFoundError):
            os.unlink(self.link_index_path(wheel_sha256))

    def get_manifest(self, wheel_sha256: str, *, check_objects: bool = True
                     ) -> WheelManifest | None:
        """The stored manifest, or None when the wheel was never added (or its manifest is bad).

        ``check_objects`` also confirms every object still exists (one ``stat``
        each). The install engine skips that: a missing object surfaces as a
        :class:`StoreError` while linking, and the engine then adds the wheel
        again -- cheaper than a thousand ``stat`` calls on every warm install.
        """
        path = self.manifest_path(wheel_sha256)
        try:
            with open(path, encoding="utf-8") as handle:
                manifest = WheelManifest.from_json(handle.read())
        except (FileNotFoundError, NotADirectoryError, ValueError, KeyError, TypeError):
            return None
        if check_objects and not all(os.path.exists(self.member_path(f))
                                     for f in manifest.files):
            return None  # objects were cleaned or found corrupt: unpack again
        return manifest

    def add_wheel(self, wheel: Path, *, expected_sha256: str | None = None,
                  filename: str | None = None) -> WheelManifest:
        """Unpack a wheel into the store once and return its manifest.

        The wheel's own sha256 is checked against ``expected_sha256`` first
        (:class:`HashMismatchError`), then its entries are validated (paths,
        RECORD hashes; :class:`WheelError`) while being written as objects.
        """
        wheel = _path(wheel)
        name = filename or wheel.name
        wheel_sha = file_sha256(wheel)
        if expected_sha256 is not None and wheel_sha != expected_sha256.lower():
            raise HashMismatchError(
                f"{name}: sha256 mismatch: expected {expected_sha256.lower()}, "
                f"got {wheel_sha}",
                hint="the wheel does not match the lock or index; re-download or re-lock",
            )
        return self._unpack(wheel, wheel_sha, name)

    def _unpack(self, wheel: Path, wheel_sha: str, name: str) -> WheelManifest:
        """Store the members of a wheel whose digest is already known; write its manifest."""
        import zipfile

        from filelock import FileLock

        from ghostenv.store.wheelfile import read_wheel

        existing = self.get_manifest(wheel_sha)
        if existing is not None:
            return existing
        lock_path = self.manifest_path(wheel_sha).with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(lock_path)):
            existing = self.get_manifest(wheel_sha)
            if existing is not None:
                return existing
            batch: list[tuple[Path, str, bool]] = []

            def put(chunks: Iterable[bytes], *, label: str, executable: bool = False) -> str:
                return self.put_stream(chunks, label=label, batch=batch, executable=executable)

            try:
                with zipfile.ZipFile(wheel) as archive:
                    manifest = read_wheel(archive, name, wheel_sha, put)
                self._commit_batch(batch)
            except zipfile.BadZipFile as exc:
                raise WheelError(f"{name}: not a valid zip archive ({exc})") from exc
            finally:
                for temp, _, _ in batch:  # a refused wheel leaves nothing behind
                    with suppress(FileNotFoundError):
                        temp.unlink()
            from ghostenv.fsutil import write_atomic  # tempfile & co.: only when writing

            write_atomic(self.manifest_path(wheel_sha), manifest.to_json().encode())
            with suppress(FileNotFoundError):  # an index of an earlier unpack
                os.unlink(self.link_index_path(wheel_sha))
            self._save_index(manifest)
        return manifest

    def add_downloaded(self, wheel: Path, wheel_sha256: str, filename: str) -> WheelManifest:
        """Unpack a wheel whose sha256 the caller computed (and checked) while downloading it."""
        return self._unpack(_path(wheel), wheel_sha256.lower(), filename)

    def add_wheel_stream(self, chunks: Iterable[bytes], filename: str, *,
                         expected_sha256: str | None = None) -> WheelManifest:
        """Unpack a wheel arriving as a download, without keeping the archive.

        The bytes go to a temp file in the store while being hashed; a digest
        that disagrees with ``expected_sha256`` raises :class:`HashMismatchError`
        (naming ``filename`` and both digests) and the partial file is removed.
        A wheel already in the store still has to be read to learn its digest,
        so callers that know the digest should try :meth:`get_manifest` first.
        """
        import hashlib

        digest = hashlib.sha256()
        handle, temp = self._temp()
        wheel = temp.with_name(f"{temp.name}-{filename}")
        try:
            with handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
            actual = digest.hexdigest()
            if expected_sha256 is not None and actual != expected_sha256.lower():
                raise HashMismatchError(
                    f"{filename}: sha256 mismatch: expected {expected_sha256.lower()}, "
                    f"got {actual}",
                    hint="the download was corrupted or the file changed upstream; retry or "
                         "re-lock",
                )
            os.replace(temp, wheel)
            return self._unpack(wheel, actual, filename)  # hashed while it arrived
        finally:
            temp.unlink(missing_ok=True)
            wheel.unlink(missing_ok=True)

    def iter_manifests(self) -> Iterator[WheelManifest]:
        """Every readable stored manifest."""
        if not self.wheels.is_dir():
            return
        for path in sorted(self.wheels.glob("*/*.json")):
            with suppress(ValueError, KeyError, TypeError, OSError):
                yield WheelManifest.from_json(path.read_text("utf-8"))

    # -- maintenance -------------------------------------------------------------

    def iter_objects(self, *, executables: bool = False) -> Iterator[tuple[str, Path]]:
        """(sha256, path) of every object file (with ``executables``, their twins too)."""
        for tree in (self.objects, self.exec_objects) if executables else (self.objects,):
            if not tree.is_dir():
                continue
            for path in tree.glob("*/*/*"):
                yield path.parent.parent.name + path.parent.name + path.name, path

    def info(self) -> StoreInfo:
        """Count objects, their bytes and stored wheels."""
        count = total = 0
        for _, path in self.iter_objects(executables=True):
            count += 1
            total += path.stat().st_size
        wheels = len(list(self.wheels.glob("*/*.json"))) if self.wheels.is_dir() else 0
        live = sum(1 for env in environments(self.root) if env.alive)
        return StoreInfo(objects=count, bytes=total, wheels=wheels, environments=live)

    def track(self, env: str | os.PathLike[str], wheel_sha256s: Iterable[str], *,
              replace: bool = False,
              installed: Mapping[str, str] | None = None) -> None:
        """Record that environment ``env`` uses these stored wheels (for :meth:`prune`).

        ``installed`` maps normalized names to the wheel each was installed from.
        """
        track(self.root_dir, env, wheel_sha256s, replace=replace, installed=installed)

    def lock_environment(self, env: str | os.PathLike[str]) -> _EnvironmentLock:
        """Hold the cross-process lock of one environment (``locks/env-<hash of path>.lock``)
        for a ``with`` block.

        The same file and ``flock`` that ``ghostenv sync`` takes (``filelock``
        uses ``flock`` on POSIX too), so installs and syncs of one environment
        never interleave their removals and links.
        """
        locks = os.path.join(self.root_dir, "locks")
        os.makedirs(locks, exist_ok=True)
        return _EnvironmentLock(os.path.join(locks, f"env-{path_key(env)}.lock"))

    def installed_wheels(self, env: str | os.PathLike[str]) -> dict[str, str]:
        """What :meth:`track` recorded as ``installed`` for ``env``."""
        return installed_wheels(self.root_dir, env)

    def prune(self, *, keep: Iterable[str] = ()) -> PruneReport:
        """Remove wheels no live environment uses (nor ``keep``), then unreferenced objects.

        ``keep`` holds wheel digests to spare regardless (e.g. those a lock
        file names). Records of environments that no longer exist are dropped.
        """
        from filelock import FileLock

        live: set[str] = set(keep)
        for env in environments(self.root):
            if env.alive:
                live |= env.wheels
            else:
                forget(self.root, env.path)
        removed_wheels = 0
        needed: set[str] = set()
        for path in sorted(self.wheels.glob("*/*.json")) if self.wheels.is_dir() else []:
            sha = path.stem
            if sha in live:
                manifest = self.get_manifest(sha)
                if manifest is not None:
                    needed.update(f.sha256 for f in manifest.files)
                continue
            with FileLock(str(path.with_suffix(".lock"))):
                self.forget_wheel(sha)
            removed_wheels += 1
        removed_objects = freed = 0
        for sha, path in list(self.iter_objects(executables=True)):
            if sha not in needed:
                freed += path.stat().st_size
                path.unlink(missing_ok=True)
                removed_objects += 1
        return PruneReport(wheels=removed_wheels, objects=removed_objects, bytes=freed)

    def verify(self, *, remove: bool = False) -> VerifyReport:
        """Re-hash every object; report (and optionally remove) those whose bytes changed.

        With ``remove``, temp files abandoned by killed writers are deleted too.
        Removing a corrupt object invalidates the manifests that use it:
        :meth:`get_manifest` then returns None and the wheel is unpacked again.
        """
        checked = 0
        corrupt: list[str] = []
        paths: list[str] = []
        if remove and self.tmp.is_dir():  # leftovers of killed writers, old enough to be dead
            cutoff = time.time() - STALE_TEMP_SECONDS
            for temp in self.tmp.iterdir():
                with suppress(OSError):
                    if temp.stat().st_mtime < cutoff:
                        temp.unlink()
        for sha, path in self.iter_objects(executables=True):
            checked += 1
            if file_sha256(path) != sha:
                corrupt.append(sha)
                paths.append(str(path))
                if remove:
                    path.unlink(missing_ok=True)
        return VerifyReport(checked=checked, corrupt=tuple(corrupt), removed=remove,
                            paths=tuple(paths))

    def clean(self) -> None:
        """Remove the whole store (environments keep their hardlinked or cloned copies)."""
        try:
            import shutil

            shutil.rmtree(self.root)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"{self.root}: could not remove the store ({exc})") from exc


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes, read in chunks.

    The one file hash of the code base: the store keys wheels by it, the install
    plan hashes local wheels with it, builds key sdists by it, and the CI cache
    lists built wheels by it; all must agree for a wheel to be found again.
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


class _EnvironmentLock:
    """:meth:`Store.lock_environment`'s context manager (a class, not
    ``contextlib.contextmanager``: contextlib costs ~0.5 ms to import on the
    fresh-environment sync)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1
        self.other: Any = None

    def __enter__(self) -> None:
        if os.name != "posix":  # pragma: no cover - Windows
            from filelock import FileLock

            self.other = FileLock(self.path)
            self.other.acquire()
            return
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def __exit__(self, *exc: object) -> None:
        if self.other is not None:  # pragma: no cover - Windows
            self.other.release()
            self.other = None
        elif self.fd >= 0:
            os.close(self.fd)  # closing releases the lock
            self.fd = -1
