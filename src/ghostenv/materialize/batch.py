"""The parallel phases of an install: making directories and linking files, in threads.

Linking is syscalls, and a syscall releases the GIL: with the per-file Python
work cut to one call, two threads keep two cores in the kernel. Hardlinks go
through ``os.link`` relative to two directory descriptors (the object tree and
the install root), so the kernel resolves short paths and Python builds no
strings; everything else (clone, copy, symlink, a plugin's mode, a file that is
already there, a missing object) takes the careful path, one file at a time
through the :class:`~ghostenv.materialize.link.Linker`.
"""

from __future__ import annotations

import errno
import os
import threading
from collections import Counter

from ghostenv.errors import InstallError, StoreError, WheelError
from ghostenv.materialize.link import LinkMode, place

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from ghostenv.materialize.link import Linker
    from ghostenv.store import Store

#: Files placed per thread at least: below that a thread costs more than it saves.
MIN_PER_THREAD = 128
_FAST_LINK = os.link in os.supports_dir_fd
#: A slice of one wheel's files: (job number, install root, executable?, (object, target) pairs).
Segment = tuple[int, str, bool, tuple[tuple[str, str], ...]]


def check_existing_dir(directory: str, base: str, wheel: str) -> None:
    """A directory that was already there must be one, and not a symlink leading out of ``base``.

    Member paths were checked lexically when the wheel was stored (no ``..``,
    not absolute); what is left is a symlinked directory already in the
    environment pointing elsewhere. A directory created by this install is safe
    when its parent is, so only existing ones cost a check.
    """
    if os.path.islink(directory):
        real_base = os.path.realpath(base)
        real = os.path.realpath(directory)
        if os.path.commonpath([real_base, real]) != real_base:
            raise WheelError(f"{wheel}: {directory} is a symlink leading outside {base}",
                             hint="the environment has a symlink that points elsewhere; "
                                  "remove it")
    elif not os.path.isdir(directory):
        raise InstallError(f"{wheel}: {directory} exists and is not a directory",
                           hint="remove that file from the environment and retry")


def missing_object(wheel: str, member: str, source: str) -> StoreError:
    """The error for a store object that vanished (the install plan then unpacks the wheel
    again)."""
    return StoreError(f"{wheel}: store object for {member} is missing ({source})",
                      hint="the store was pruned or repaired meanwhile; add the wheel "
                           "again (`ghostenv cache verify` checks the rest)")


def parallel(tasks: Sequence[Callable[[], None]]) -> None:
    """Run ``tasks`` at once (the first in this thread); re-raise the first failure."""
    if len(tasks) == 1:
        tasks[0]()
        return
    errors: list[BaseException] = []

    def run(task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as exc:  # handed to the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(task,), daemon=True) for task in tasks[1:]]
    for thread in threads:
        thread.start()
    run(tasks[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _bind(function: Callable[[list[Segment]], None], work: list[Segment]) -> Callable[[], None]:
    """``function`` with its argument bound (a task for :func:`parallel`)."""
    return lambda: function(work)


def _buckets(groups: Sequence[Sequence[str]], count: int) -> list[list[str]]:
    """Spread groups over ``count`` lists, biggest first, each group kept whole and in order."""
    out: list[list[str]] = [[] for _ in range(count)]
    for group in sorted(groups, key=len, reverse=True):
        min(out, key=len).extend(group)
    return [b for b in out if b]


class Linking:
    """The link phase of one :func:`install_many` call: mode, descriptors, failures."""

    def __init__(self, store: Store, linker: Linker) -> None:
        self.store = store
        self.linker = linker
        self.plain_dir = os.fspath(store.objects)
        self.exec_dir = os.fspath(store.exec_objects)
        self.mode: LinkMode | None = None
        #: Job number -> the missing object that stopped it.
        self.errors: dict[int, StoreError] = {}
        self.counts: list[tuple[int, str, int]] = []  # (job, mode, files): appends are atomic

    def one(self, src_rel: str, target: str, executable: bool) -> LinkMode:
        """Place one file the careful way (replacing what is there, with the linker's fallbacks).

        An executable whose twin in the executable tree is missing (a store
        from before that tree existed) gets it made from the plain object.
        """
        linker = self.linker
        source = f"{self.exec_dir if executable else self.plain_dir}/{src_rel}"
        if executable and not os.path.exists(source):
            if not os.path.exists(f"{self.plain_dir}/{src_rel}"):
                raise FileNotFoundError(errno.ENOENT, "no such store object", source)
            source = self.store.executable_object(src_rel.replace("/", ""))
        fast = self.mode if linker.custom is None else None
        if fast is LinkMode.HARDLINK and executable:
            try:
                place(source, target, LinkMode.HARDLINK)
                return LinkMode.HARDLINK
            except FileNotFoundError:
                raise
            except OSError:  # too many links, say: a copy of its own, made executable
                fast = None
        elif fast is not None and not executable:
            try:
                place(source, target, fast)
                return fast
            except FileNotFoundError:
                raise
            except OSError:
                return linker.link(source, target)
        used = linker.link(source, target, writable=executable)
        if executable and used in (LinkMode.CLONE, LinkMode.COPY):
            os.chmod(target, 0o755)
        return used

    def careful(self, job: int, root: str, pairs: Sequence[tuple[str, str]], executable: bool,
                wheel: str) -> None:
        """Link ``pairs`` one by one through :meth:`one`; a missing object stops the job."""
        counts: Counter[str] = Counter()
        for src_rel, dst_rel in pairs:
            if job in self.errors:
                break
            try:
                used = self.one(src_rel, f"{root}/{dst_rel}", executable)
            except FileNotFoundError:
                source = f"{self.exec_dir if executable else self.plain_dir}/{src_rel}"
                if os.path.exists(source) or os.path.exists(f"{self.plain_dir}/{src_rel}"):
                    raise
                self.errors[job] = missing_object(wheel, dst_rel, source)
                break
            counts[used.value] += 1
        for mode, count in counts.items():
            self.counts.append((job, mode, count))


def make_all_dirs(roots: Mapping[str, int], owners: Mapping[str, Mapping[str, str]],
                   workers: int) -> None:
    """Create every root-relative directory; trees under different top names in parallel."""
    tasks: list[Callable[[], None]] = []
    for root, needed in owners.items():
        fd = roots[root]
        groups: dict[str, list[str]] = {}
        for rel in needed:  # each index lists parents first; the union keeps that per group
            groups.setdefault(rel.partition("/")[0], []).append(rel)
        count = min(workers, max(1, len(needed) // 64))
        for bucket in _buckets(list(groups.values()), count):
            def make(bucket: list[str] = bucket, root: str = root, fd: int = fd,
                     needed: Mapping[str, str] = needed) -> None:
                mkdir = os.mkdir
                for rel in sorted(bucket, key=lambda d: d.count("/")):
                    try:
                        mkdir(rel, dir_fd=fd)
                    except FileExistsError:
                        check_existing_dir(f"{root}/{rel}", root, needed[rel])
            tasks.append(make)
    if tasks:
        parallel(tasks)


def link_files(segments: list[Segment], wheels: Sequence[str], roots: Mapping[str, int],
               linking: Linking, *, workers: int,
               on_done: Callable[[int], None] = lambda _job: None) -> None:
    """Link every segment's files, in up to ``workers`` even slices (``wheels``: names by job).

    ``on_done(job)`` runs in the thread that links a job's last file, while the
    other threads go on linking: a wheel's RECORD and launchers are written as
    soon as its files are in place, without a phase of their own. Jobs with no
    file to link here are left to the caller.
    """
    if not segments:
        return
    first = next((s for s in segments if not s[2]), None)
    linker = linking.linker
    if first is not None:
        try:
            linking.mode = linker.known(linking.plain_dir, first[1])
        except OSError:  # no object tree at all: the careful path reports what is missing
            linking.mode = None
        if linking.mode is None and linker.custom is None:
            # probe with the first plain file: the linker tries clone, hardlink, copy
            number, root, _, pairs = first
            linking.careful(number, root, pairs[:1], False, wheels[number])
            linking.mode = linker.known(linking.plain_dir, root)
            segments[segments.index(first)] = (number, root, False, pairs[1:])
    fast = _FAST_LINK and linking.mode is LinkMode.HARDLINK and linker.custom is None
    fds: dict[bool, int | None] = {False: None, True: None}
    if fast:
        for executable, tree in ((False, linking.plain_dir), (True, linking.exec_dir)):
            if any(s[2] is executable for s in segments):
                try:
                    fds[executable] = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
                except OSError:
                    fds[executable] = None
    total = sum(len(s[3]) for s in segments)
    count = max(1, min(workers, total // MIN_PER_THREAD))
    share = -(-total // count)
    slices: list[list[Segment]] = [[]]
    room = share
    for number, root, executable, pairs in segments:
        rest = pairs
        while rest:
            if room == 0:
                slices.append([])
                room = share
            part, rest = rest[:room], rest[room:]
            slices[-1].append((number, root, executable, part))
            room -= len(part)

    pending: dict[int, int] = {}
    for work in slices:
        for number, *_ in work:
            pending[number] = pending.get(number, 0) + 1
    lock = threading.Lock()

    def done(number: int) -> None:
        with lock:
            pending[number] -= 1
            last = pending[number] == 0
        if last:
            on_done(number)

    def run(work: list[Segment]) -> None:
        for number, root, executable, pairs in work:
            _link_segment(number, root, executable, pairs)
            done(number)

    def _link_segment(number: int, root: str, executable: bool,
                      pairs: tuple[tuple[str, str], ...]) -> None:
        link = os.link
        wheel = wheels[number]
        src_fd = fds[executable]
        if src_fd is None:
            linking.careful(number, root, pairs, executable, wheel)
            return
        dst_fd = roots[root]
        try:
            for src, dst in pairs:
                link(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        except OSError:  # a file already there, a missing object: redo the slice carefully
            linking.careful(number, root, pairs, executable, wheel)
        else:
            linking.counts.append((number, LinkMode.HARDLINK.value, len(pairs)))

    try:
        parallel([_bind(run, work) for work in slices if work])
    finally:
        for fd in fds.values():
            if fd is not None:
                os.close(fd)


