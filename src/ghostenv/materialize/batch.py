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

import _thread
import errno
import os
import time

from ghostenv.errors import InstallError, StoreError, WheelError
from ghostenv.materialize.link import LinkMode, place

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from ghostenv.materialize.link import Linker
    from ghostenv.store import Store
    from ghostenv.store.manifest import LinkIndex

#: Files placed per thread at least: below that a thread costs more than it saves.
MIN_PER_THREAD = 128
#: Files per link task: small enough that two threads share a big tree evenly.
CHUNK = 256
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

    # _thread, not threading: threading (with functools) costs ~1.5 ms to import, on the
    # start-up of the fresh-environment sync
    count = getattr(_thread, "_count", lambda: 0)
    before = count()
    finished = []
    for task in tasks[1:]:
        done = _thread.allocate_lock()
        done.acquire()
        finished.append(done)
        _thread.start_new_thread(_run_then_release, (run, task, done))
    run(tasks[0])
    for done in finished:
        done.acquire()
    for _ in range(200):  # each worker is past its release, only exiting now (bounded:
        if count() <= before:  # another part may start a thread meanwhile)
            break
        time.sleep(0.00005)
    if errors:
        raise errors[0]


def _run_then_release(run: Callable[[Callable[[], None]], None], task: Callable[[], None],
                      done: _thread.LockType) -> None:
    try:
        run(task)
    finally:
        done.release()


class _Condition:
    """``threading.Condition``'s ``with``/``wait``/``notify_all`` over ``_thread`` locks."""

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._waiters: list[_thread.LockType] = []

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def wait(self) -> None:
        """Release the lock until :meth:`notify_all` (called with the lock held)."""
        waiter = _thread.allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        self._lock.release()
        try:
            waiter.acquire()
        finally:
            self._lock.acquire()

    def notify_all(self) -> None:
        """Wake every waiter (called with the lock held)."""
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            waiter.release()


class Linking:
    """The link phase of one :func:`install_many` call: mode, descriptors, failures."""

    def __init__(self, store: Store, linker: Linker, wheels: Sequence[str] = ()) -> None:
        self.store = store
        self.linker = linker
        #: File names of the wheels, by job number (for messages).
        self.wheels = wheels
        #: Every directory was made before linking started (while probing the link mode).
        self.made = False
        self.plain_dir = store.objects_dir
        self.exec_dir = store.exec_objects_dir
        self.mode: LinkMode | None = None
        #: Job number -> the missing object that stopped it.
        self.errors: dict[int, StoreError] = {}
        self.counts: list[tuple[int, str, int]] = []  # (job, mode, files): appends are atomic
        #: Bytes of a constant installer file -> its store object (linked, not written).
        self.constants: dict[bytes, str] = {}

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
        counts: dict[str, int] = {}
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
            counts[used.value] = counts.get(used.value, 0) + 1
        for mode, count in counts.items():
            self.counts.append((job, mode, count))


def place_trees(indexes: Sequence[LinkIndex], roots: Sequence[str], root_fds: Mapping[str, int],
                linking: Linking, *, workers: int,
                on_done: Callable[[int], None] = lambda _job: None) -> None:
    """Make every tree's directories and link its files, on up to ``workers`` threads.

    A tree is one top-level name under an install root (``numpy``, its
    dist-info, the root's loose files) across all wheels. Threads take work
    as they free up: first whole trees, biggest first (a tree's directories,
    then its files queued as chunks of :data:`CHUNK`), then the queued chunks,
    so no thread idles while another still has a big tree or wheel to do.
    ``roots[job]`` is the install root of ``indexes[job]``; ``root_fds`` holds
    an open descriptor per root. ``on_done(job)`` runs in the thread that
    links a job's last file (its RECORD can be written then). Jobs without
    files to link are left to the caller.
    """
    # (root, top-level name) -> (directory -> wheel needing it, file chunks, jobs with dirs)
    trees: dict[tuple[str, str], tuple[dict[str, str], list[Segment], set[int]]] = {}
    pending: dict[int, int] = {}  # per job: chunks to link and trees to make
    for number, index in enumerate(indexes):
        root = roots[number]
        for name, d0, d1, p0, p1, x0, x1 in index.groups:
            owners, chunks, makers = trees.setdefault((root, name), ({}, [], set()))
            for rel in index.dirs[d0:d1]:  # each index lists parents first; so does the union
                owners.setdefault(rel, index.filename)
            if d1 > d0 and number not in makers:
                makers.add(number)
                pending[number] = pending.get(number, 0) + 1
            for executable, pairs in ((False, index.plain[p0:p1]),
                                      (True, index.executables[x0:x1])):
                for at in range(0, len(pairs), CHUNK):
                    chunks.append((number, root, executable, pairs[at:at + CHUNK]))
                    pending[number] = pending.get(number, 0) + 1
    if not trees:
        return
    lock = _Condition()

    def done(number: int) -> None:
        with lock:
            pending[number] -= 1
            last = pending[number] == 0
        if last:
            on_done(number)

    def make(key: tuple[str, str]) -> None:
        root = key[0]
        owners, _chunks, makers = trees[key]
        mkdir = os.mkdir
        fd = root_fds[root]
        for rel in owners:
            try:
                mkdir(rel, dir_fd=fd)
            except FileExistsError:
                check_existing_dir(f"{root}/{rel}", root, owners[rel])
        for number in makers:  # a wheel is finished only once all its directories exist
            done(number)

    first = next(((key, at) for key, (_, cs, _) in trees.items()
                  for at, c in enumerate(cs) if not c[2]), None)
    if first is not None:
        probe = trees[first[0]][1][first[1]]
        fds = _open_trees(linking, probe, trees, make)
        if linking.made:  # the probe linked the chunk's first file already
            number, root, executable, pairs = probe
            trees[first[0]][1][first[1]] = (number, root, executable, pairs[1:])
    else:
        fds = _open_trees(linking, None, trees, make)

    def link(chunk: Segment) -> None:
        number, root, executable, pairs = chunk
        src_fd = fds[executable]
        if src_fd is None:
            linking.careful(number, root, pairs, executable, linking.wheels[number])
        else:
            try:
                for src, dst in pairs:
                    os.link(src, dst, src_dir_fd=src_fd, dst_dir_fd=root_fds[root])
            except OSError:  # a file already there, a missing object: redo it carefully
                linking.careful(number, root, pairs, executable, linking.wheels[number])
            else:
                linking.counts.append((number, LinkMode.HARDLINK.value, len(pairs)))
        done(number)

    # the work queue: trees not made yet (biggest first), then chunks of made ones; a list
    # read from ``taken[0]`` on (a deque would import collections: ~2 ms of a fresh sync)
    queue: list[tuple[tuple[str, str] | None, Segment | None]] = []
    taken = [0]
    for key, (owners, chunks, _) in sorted(trees.items(),
                                           key=lambda kv: -(8 * len(kv[1][0]) + len(kv[1][1]) *
                                                            CHUNK)):
        if owners and not linking.made:
            queue.append((key, None))
        else:
            queue.extend((None, chunk) for chunk in chunks)
    making = [sum(1 for key, _ in queue if key is not None)]  # tree items not done yet
    stop: list[bool] = []

    def worker() -> None:
        while True:
            with lock:
                while taken[0] == len(queue) and making[0] and not stop:
                    lock.wait()
                if stop or taken[0] == len(queue):
                    return
                key, chunk = queue[taken[0]]
                taken[0] += 1
            if chunk is not None:
                link(chunk)
                continue
            assert key is not None
            try:
                make(key)
            except BaseException:
                with lock:
                    stop.append(True)
                    making[0] -= 1
                    lock.notify_all()
                raise
            with lock:
                queue.extend((None, c) for c in trees[key][1])
                making[0] -= 1
                lock.notify_all()

    total = sum(8 * len(o) + sum(len(c[3]) for c in cs) for o, cs, _ in trees.values())
    count = max(1, min(workers, total // MIN_PER_THREAD))
    try:
        parallel([worker] * count)
    finally:
        for fd in fds.values():
            if fd is not None:
                os.close(fd)


def _open_trees(linking: Linking, first: Segment | None, trees: Iterable[tuple[str, str]],
                make: Callable[[tuple[str, str]], None]) -> dict[bool, int | None]:
    """Settle the link mode, and open the object trees when hardlinks are the fast path.

    The mode of this (store, environment) filesystem pair is usually known from
    earlier runs. When it is not, every directory is made first (in this
    thread) and the first plain file probes clone, hardlink, copy.
    """
    linker = linking.linker
    if first is not None:
        try:
            linking.mode = linker.known(linking.plain_dir, first[1])
        except OSError:  # no object tree at all: the careful path reports what is missing
            linking.mode = None
        if linking.mode is None and linker.custom is None:
            for key in trees:
                make(key)
            linking.made = True
            number, root, _, pairs = first
            linking.careful(number, root, pairs[:1], False, linking.wheels[number])
            linking.mode = linker.known(linking.plain_dir, root)
    fds: dict[bool, int | None] = {False: None, True: None}
    if _FAST_LINK and linking.mode is LinkMode.HARDLINK and linker.custom is None:
        for executable, tree in ((False, linking.plain_dir), (True, linking.exec_dir)):
            try:
                fds[executable] = os.open(tree, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                fds[executable] = None  # (no executables stored yet): the careful path
    return fds
