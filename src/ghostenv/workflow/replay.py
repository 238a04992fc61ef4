"""A fresh environment from its recipe: the last engine sync's operations, replayed.

A ``sync`` into an environment that does not exist, from a warm store, ends as
a list of operations: make these directories, these symlinks, hardlink these
store objects to these paths, write these few small files (pyvenv.cfg,
activate scripts, launchers, RECORD ...). The engine works that list out each
time (read the project and the lock, select packages, pick wheels, plan,
compile link indexes); when nothing it depends on changed, the list comes out
the same. :mod:`ghostenv.workflow.recipe` records it after an engine sync that
made a new environment by hardlinks only, and this module replays it: a
marshal load, a few ``stat`` calls to prove the recipe still holds, then
``mkdir``/``symlink``/``link``/``write`` relative to directory descriptors on
two threads -- no package selection, no engine imports.

A recipe is used only when everything the engine's answer depends on is
what it was when the recipe was captured (:func:`_valid`): ghostenv's version
and store schema, the environment path (the recipe's name) and its absence,
the selection (groups, extras, options, ``--python``, checked or ``--frozen``),
the project inputs (stat, else sha256, with the gate's racy-mtime rule), the
interpreter (its file, and the one-hour choice memo that named it), the
editable project's build key and cached wheel, the umask, the filesystem the
environment lands on, and the environment variables the engine reads. Any
doubt is a miss: the engine runs and records a new recipe.

The environment is built beside itself, in ``.<name>.ghostenv-replay`` (hidden;
the editable project's build key skips that suffix), under the environment's
own lock (the file and ``flock`` of :meth:`ghostenv.store.Store.lock_environment`)
and appears by one ``rename``: a replay killed anywhere leaves no environment
(the next sync into it, replay or engine, removes the leftover) or the whole
one. Any failure -- a store object pruned meanwhile, ``EXDEV``, ``EMLINK`` --
removes the temporary tree, drops the recipe and returns None, and the engine
does the sync (re-fetching what is missing); the user sees no error from a
replay.
"""

from __future__ import annotations

import _thread
import marshal
import os
import sys
import time

from ghostenv import __version__
from ghostenv.workflow import gate

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from typing import Any

    #: What the threads share: the tasks left, the descriptors of the environment, the
    #: plain and the executable object trees, those of the link bases, and the umask.
    Work = tuple[list[Any], tuple[int, int, int], list[int], int]

#: The recipe directory under the cache (bump with the payload's layout).
RECIPES = "recipes-v1"
FORMAT = 9
#: The first line of every recipe file; a file of another version is a miss.
HEADER = f"ghostenv-recipe {FORMAT} {__version__} {gate.STORE_SCHEMA}\n".encode()
#: Environment variables whose values the engine's result depends on (beyond the
#: selection's own ``--python``, which UV_PYTHON / GHOSTENV_PYTHON reach): the link mode
#: and the interpreter choice memo's key (PATH, VIRTUAL_ENV).
ENV_VARS = ("GHOSTENV_LINK_MODE", "PATH", "VIRTUAL_ENV")
#: How long a choice memo is trusted (``ghostenv.workflow.frozen_python.CHOICE_TTL``).
CHOICE_TTL = 3600.0
#: The suffix of the hidden directory beside an environment that a replay builds it in
#: (``frozen_editable.editable_key`` and the builder's key skip names with it).
TEMP_SUFFIX = ".ghostenv-replay"


def recipe_path(cache_dir: str, env_dir: str, selection: gate.Selection) -> str:
    """Where the recipe of the environment at ``env_dir`` for ``selection`` is kept: named
    by the escaped path (as the store names its lock: no hashing on the way) and the
    selection, so a ``sync --frozen`` and a ``run`` (checked), or two group choices, into
    one path keep a recipe each."""
    variant = f"{selection.key()};{selection.python or ''};{int(selection.checked)}"
    name = f"{path_key(env_dir)}@{_escape(variant)}"
    if len(name) > 240:
        from ghostenv._fast import sha256_hex

        name = sha256_hex(os.fsencode(f"{os.path.abspath(env_dir)}\0{variant}"))[:32]
    return os.path.join(cache_dir, RECIPES, name)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")


def temp_path(env_dir: str) -> str:
    """The temporary tree a replay of ``env_dir`` is built in: hidden, beside it (the same
    directory, so the same file system and the same place on disk as the engine's
    environment would take), renamed into place when complete."""
    parent, name = os.path.split(os.path.abspath(env_dir))
    return os.path.join(parent, f".{name}{TEMP_SUFFIX}")


def path_key(env_dir: str) -> str:
    """:func:`ghostenv.store.refs.path_key` without importing the store (a test keeps the
    two equal): the names of the environment's lock and its reference record."""
    absolute = os.path.abspath(env_dir)
    name = _escape(absolute)
    if len(name) > 200:
        from ghostenv._fast import sha256_hex

        name = sha256_hex(os.fsencode(absolute))[:32]
    return name


def lock_path(cache_dir: str, env_dir: str) -> str:
    """:meth:`ghostenv.store.Store.lock_environment`'s lock file for ``env_dir``."""
    return os.path.join(cache_dir, "store", "locks", f"env-{path_key(env_dir)}.lock")


def umask() -> int:
    """The process umask: set and restored (~1 us), or, while other threads run (a host
    process that imported ghostenv, nox say, might create a file meanwhile), read from
    ``/proc/self/status`` on Linux (~0.1 ms)."""
    if getattr(_thread, "_count", lambda: 1)() > 0:
        try:
            with open("/proc/self/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Umask:"):
                        return int(line[6:].strip(), 8)
        except (OSError, ValueError):
            pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def environ_key() -> tuple[tuple[str, str | None], ...]:
    """The values of :data:`ENV_VARS` (None when unset)."""
    return tuple((name, os.environ.get(name)) for name in ENV_VARS)


def seal(payload: bytes) -> bytes:
    """A recipe file's bytes: :data:`HEADER`, the payload's length and CRC-32, the payload.

    A CRC, not a sha256: it only has to catch a damaged or cut-off file (the file
    is replaced by a rename, and the cache is the user's own), and the builtin
    sha256 of a 1.7 MB recipe (the data workload) costs ~5 ms of each replay,
    crc32 ~0.5 ms."""
    from binascii import crc32

    return HEADER + f"{len(payload)} {crc32(payload):08x}\n".encode() + payload


def load(path: str) -> dict[str, Any] | None:
    """The recipe at ``path``, or None: absent, another version, cut off or damaged."""
    try:
        with open(path, "rb") as handle:
            blob = handle.read()
    except OSError:
        return None
    if not blob.startswith(HEADER):
        return None
    line, _, _rest = blob[len(HEADER):len(HEADER) + 40].partition(b"\n")
    size, _, crc = line.partition(b" ")
    start = len(HEADER) + len(line) + 1
    if not size.isdigit() or len(blob) - start != int(size):
        return None
    from binascii import crc32

    payload = memoryview(blob)[start:]  # (no copy of a 1.7 MB recipe)
    if f"{crc32(payload):08x}".encode() != crc:
        return None
    try:
        doc = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    return doc if isinstance(doc, dict) else None


def drop(path: str) -> None:
    """Remove a recipe that failed (the next engine sync records a new one)."""
    try:  # noqa: SIM105 - contextlib costs an import on the fast path
        os.unlink(path)
    except OSError:
        pass


def attempt(project: str, env_dir: str, selection: gate.Selection, *, cache_dir: str,
            quiet: bool, always_summary: bool, started: float | None = None
            ) -> tuple[int | None, bool | None]:
    """The entry point's first try at a stale environment, before the frozen path's imports.

    ``(exit code, None)`` when replayed; else ``(None, ready)``: ``ready`` True when
    :func:`ghostenv.workflow.frozen.sync`'s own checks (the lock vouched current unless
    ``--frozen``, no plugins) passed here, False when they failed (the full path's job),
    None when they were not made (an existing environment, replay switched off).
    """
    if os.name != "posix" or os.environ.get("GHOSTENV_REPLAY", "") == "0":
        return None, None
    try:
        os.lstat(env_dir)
    except FileNotFoundError:
        pass
    except OSError:
        return None, None
    else:
        return None, None  # an existing environment is the engine's (it refreshes in place)
    if selection.checked:  # not --frozen: only a lock already verified against pyproject.toml
        from ghostenv.lock.current import lock_is_current

        if not os.path.isfile(os.path.join(project, "uv.lock")) or not lock_is_current(
                project, cache_dir):
            return None, False
    from ghostenv import plugins

    if plugins.plugins_declared():  # their hooks fire on the full path
        return None, False
    code = replay(project, env_dir, selection, cache_dir=cache_dir, quiet=quiet,
                  always_summary=always_summary, started=started)
    return code, True


def replay(project: str, env_dir: str, selection: gate.Selection, *, cache_dir: str,
           quiet: bool, always_summary: bool, started: float | None = None) -> int | None:
    """Build ``env_dir`` from its recipe; 0, or None when the engine must do the sync.

    Called after :func:`ghostenv.workflow.frozen.sync`'s own checks (the lock verified
    against pyproject.toml unless ``--frozen``, no plugins): by :func:`attempt`, or by
    that function before it reads anything else. ``always_summary`` is taken for the
    same signature as ``frozen.sync``: a replay always installs something, so the
    summary line is printed unless ``quiet`` (for ``run`` too, as the engine does).
    """
    del always_summary
    begin = time.perf_counter()
    env = os.path.abspath(env_dir)
    try:
        os.lstat(env)
    except FileNotFoundError:
        pass
    except OSError:
        return None
    else:
        return None  # an existing environment is the engine's (it refreshes in place)
    path = recipe_path(cache_dir, env, selection)
    recipe = load(path)
    if recipe is None:
        return None
    try:
        why = _valid(recipe, project, env, selection, cache_dir)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        why = f"{type(exc).__name__}: {exc}"
    if why is not None:
        if os.environ.get("GHOSTENV_TIMINGS"):
            sys.stderr.write(f"replay: recipe not used ({why})\n")
        return None
    marks: list[tuple[str, float]] = [("entry", started), ("entry+gate", begin)] if (
        started is not None) else [("start", begin)]
    marks.append(("recipe", time.perf_counter()))
    try:
        done = _locked_build(recipe, env, cache_dir, project=project, selection=selection,
                             marks=marks)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception:  # the engine does it instead (and reports what is really wrong)
        drop(path)
        return None
    if done is None:
        return None
    try:  # noqa: SIM105 - used now: kept when old recipes are trimmed (by their mtime)
        os.utime(path)
    except OSError:
        pass
    if not quiet:  # (``run`` prints it too: something was installed, as the engine says)
        installed, built = recipe["summary"]
        sys.stderr.write(summary_line(installed, done * 1000, built=tuple(built)) + "\n")
    if os.environ.get("GHOSTENV_TIMINGS"):
        marks.append(("summary", time.perf_counter()))
        sys.stderr.write("timings: replay: " + ", ".join(
            f"{name} {(t - marks[i][1]) * 1000:.1f} ms"
            for i, (name, t) in enumerate(marks[1:])) + "\n")
    return 0


def _valid(recipe: dict[str, Any], project: str, env: str, selection: gate.Selection,
           cache_dir: str) -> str | None:
    """None when the engine would make exactly the recipe's environment now, else what
    differs (stdlib checks only; shown under ``GHOSTENV_TIMINGS=1``)."""
    if recipe["env"] != env or recipe["project"] != os.path.abspath(project):
        return "another environment or project path"
    if recipe["store"] != os.path.join(cache_dir, "store"):
        return "another store (the cache was moved)"
    if (recipe["selection"] != selection.key() or recipe["python"] != selection.python
            or recipe["checked"] != selection.checked):
        return "another selection"
    if recipe["environ"] != environ_key():
        return "environment variables changed"
    if recipe["umask"] != umask():
        return "another umask"
    if os.stat(os.path.dirname(env)).st_dev != recipe["dev"]:
        return "another file system"
    cwd = recipe["cwd"]
    if cwd is not None and cwd != os.getcwd():
        return "another working directory (a relative --python)"
    # the interpreter: its file (and the pyvenv.cfg beside a venv's), as the probe cache keys it
    for file, st in recipe["interp"]:
        if gate._stat(file) != st:
            return f"interpreter {file} changed"
    memo = recipe["memo"]
    if memo is not None:
        memo_path, named = memo
        if time.time() - os.stat(memo_path).st_mtime >= CHOICE_TTL:
            return "the interpreter choice expired"
        with open(memo_path, encoding="utf-8") as handle:
            if handle.read().strip() != named:
                return "another interpreter choice"
    inputs = _inputs(recipe, project)
    if isinstance(inputs, str):
        return f"{inputs} changed"
    recipe["inputs now"] = inputs  # for gate.record: checked just now, not hashed again
    editable = recipe["editable"]
    if editable is not None:
        from ghostenv.workflow.frozen_editable import editable_key

        key, folder, names, wheel, st = editable
        if editable_key(project) != key:
            return "the editable project's build key changed"
        if sorted(n for n in os.listdir(folder) if n.endswith(".whl")) != names or gate._stat(
                os.path.join(folder, wheel)) != st:
            return "the editable wheels changed"
    return None


def _inputs(recipe: dict[str, Any], project: str) -> dict[str, tuple[str, str]] | str:
    """The project inputs' signatures now (``name -> (stat, sha256)``) when their content
    is the recipe's (by stat, else by sha256: the gate's rules, an mtime within its racy
    window always hashed), else the name of the first that differs."""
    captured = recipe["time"]
    out = {}
    for name, st, digest in recipe["inputs"]:
        file = os.path.join(project, name)
        now = gate._stat(file)
        if not (now == st and (st == "-" or captured - gate._mtime(st) >= gate.RACY_NS)) and (
                now == "-" or st == "-" or gate._sha256(file) != digest):
            return str(name)
        out[name] = (now, digest)
    return out


def _locked_build(recipe: dict[str, Any], env: str, cache_dir: str, *, project: str,
                  selection: gate.Selection, marks: list[tuple[str, float]]) -> float | None:
    """Under the environment's lock: build, track, rename, record; the build's seconds,
    or None when the environment appeared meanwhile (the engine takes it from there)."""
    import fcntl

    lock = lock_path(cache_dir, env)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.path.lexists(env):
            return None
        marks.append(("lock", time.perf_counter()))
        start = time.perf_counter()
        temp = temp_path(env)
        if os.path.lexists(temp):  # a killed replay's: ours to remove (we hold the lock)
            remove_tree(temp)
        try:
            build(recipe, temp)
            marks.append(("build", time.perf_counter()))
            _track(recipe, env, exact=selection.exact)
            os.rename(temp, env)
        except BaseException:
            remove_tree(temp)
            raise
        took = time.perf_counter() - start
        marks.append(("track+rename", time.perf_counter()))
        interpreter, sites, count = recipe["gate"]
        gate.record(project, env, selection.as_exact(), interpreter=interpreter,
                    site_packages=sites, count=count, inputs=recipe["inputs now"])
        marks.append(("record", time.perf_counter()))
        return took
    finally:
        os.close(fd)  # closing releases the lock


def _track(recipe: dict[str, Any], env: str, *, exact: bool) -> None:
    """Register the environment in the store's reference registry, as the engine's
    :meth:`ghostenv.store.Store.track` does (``cache prune`` must see it as live): for an
    exact sync the record the engine would write, under the same lock; else ``track``."""
    wheels, installed, text = recipe["track"]
    if not exact:  # added to what the record held: the engine's own code merges
        from ghostenv.store.refs import track

        track(recipe["store"], env, wheels, replace=False, installed=installed)
        return
    import fcntl

    path = os.path.join(recipe["store"], "envs-v1", f"{path_key(env)}.json")
    try:
        lock_fd = os.open(path[: -len(".json")] + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        lock_fd = os.open(path[: -len(".json")] + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        from ghostenv._fast import write_small

        write_small(path, text.encode("utf-8"))  # as refs.track writes it
    finally:
        os.close(lock_fd)  # closing releases the lock


def remove_tree(path: str) -> None:
    """Remove a (partial) tree; what cannot be removed is left for the next try."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)


#: Threads making the tree (this one included). Two: one per core of the machines
#: measured; a link is a syscall that releases the GIL.
THREADS = int(os.environ.get("GHOSTENV_REPLAY_THREADS", "2") or 2)


def build(recipe: dict[str, Any], root: str) -> None:
    """Make the recipe's tree at ``root`` (which must not exist), on two threads.

    This thread makes the skeleton (the directories outside site-packages, and
    site-packages itself) and its symlinks; then both threads take tasks from a
    shared list as they free up (``list.pop`` is atomic), biggest first: a task is
    one top-level tree of site-packages (or the rest of the environment) -- its
    directories, symlinks, written files and links -- so the two threads seldom
    work in one directory at once, and one makes directories while the other
    links (the engine's way too). Modes the umask would take are set explicitly.
    """
    mask = recipe["umask"]
    root_mode = recipe["root_mode"]
    try:
        os.mkdir(root, root_mode)
    except FileNotFoundError:  # no parent yet (the engine makes it too)
        os.makedirs(os.path.dirname(root), exist_ok=True)
        os.mkdir(root, root_mode)
    if root_mode & mask:
        os.chmod(root, root_mode)
    rfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    fds = [rfd]
    try:
        _make_dirs(recipe["skeleton"], rfd, mask)
        for target, rel in recipe["symlinks"]:
            os.symlink(target, rel, dir_fd=rfd)
        store = recipe["store"]
        pfd = os.open(os.path.join(store, recipe["plain_tree"]), os.O_RDONLY | os.O_DIRECTORY)
        fds.append(pfd)
        xfd = pfd
        tasks = recipe["tasks"]
        if any(task[4] for task in tasks):
            xfd = os.open(os.path.join(store, recipe["exec_tree"]),
                          os.O_RDONLY | os.O_DIRECTORY)
            fds.append(xfd)
        bases = [rfd]  # the directories link targets are relative to (site-packages)
        for base in recipe["bases"][1:]:
            bases.append(os.open(base, os.O_RDONLY | os.O_DIRECTORY, dir_fd=rfd))
            fds.append(bases[-1])
        # taken from the end: the biggest first (the recipe lists them by cost)
        work: Work = (list(tasks), (rfd, pfd, xfd), bases, mask)
        errors: list[BaseException] = []
        count = getattr(_thread, "_count", lambda: 0)
        before = count()
        finished = []
        for _ in range(THREADS - 1):
            done = _thread.allocate_lock()
            done.acquire()  # released by the worker at its end
            finished.append(done)
            _thread.start_new_thread(_worker, (work, done, errors))
        try:
            _work(work, errors)
        finally:
            for done in finished:
                done.acquire()
            for _ in range(200):  # the workers are past their release, only exiting now
                if count() <= before:
                    break
                time.sleep(0.00005)
        if errors:
            raise errors[0]
    finally:
        for fd in fds:
            os.close(fd)


def link_pairs(blob: bytes) -> list[tuple[str, str]]:
    """A task's links as ``(object, target)`` pairs (the recipe holds them as one
    ``object NUL target NUL ...`` byte string: one object for marshal to make instead
    of three per link, and ``os.link`` takes the bytes as they are)."""
    parts = iter(blob.split(b"\0")) if blob else iter(())
    return [(os.fsdecode(src), os.fsdecode(dst)) for src, dst in zip(parts, parts, strict=True)]


def _work(work: Work, errors: list[BaseException]) -> None:
    """One thread's share: tasks until none is left. A failure is appended to ``errors``
    (and stops both threads at their next task)."""
    tasks, (rfd, pfd, xfd), bases, mask = work
    link = os.link
    try:
        while not errors:
            try:
                _cost, base, dirs, plain, executables, files, symlinks = tasks.pop()
            except IndexError:
                break
            _make_dirs(dirs, rfd, mask)
            for target, rel in symlinks:
                os.symlink(target, rel, dir_fd=rfd)
            dst_fd = bases[base]
            for blob, src_fd in ((plain, pfd), (executables, xfd)):
                if blob:
                    parts = iter(blob.split(b"\0"))
                    for src, dst in zip(parts, parts):  # noqa: B905 - pairs by construction
                        link(src, dst, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
            _write_files(files, rfd, mask)
    except BaseException as exc:
        errors.append(exc)
        raise


def _make_dirs(dirs: Any, rfd: int, mask: int) -> None:
    mkdir = os.mkdir
    for rel, mode in dirs:
        mkdir(rel, mode, dir_fd=rfd)
        if mode & mask:
            os.chmod(rel, mode, dir_fd=rfd)


def _worker(work: Work, done: _thread.LockType, errors: list[BaseException]) -> None:
    """The second thread: :func:`_work`, then the release the main thread waits for."""
    try:
        _work(work, errors)
    except BaseException:  # in ``errors`` already: the main thread raises it
        return
    finally:
        done.release()


def _write_files(files: Any, rfd: int, mask: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for rel, data, mode in files:
        fd = os.open(rel, flags, mode, dir_fd=rfd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if mode & mask:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)


def summary_line(installed: int, install_ms: float, *, removed: int = 0, downloaded: int = 0,
                 download_ms: float = 0.0, built: tuple[str, ...] = ()) -> str:
    """The one line a sync prints: ``Installed 16 packages in 41ms (removed 1, ...)``
    (here so that a replay prints it without importing :mod:`ghostenv.workflow.frozen`,
    which re-exports it)."""
    noun = "package" if installed == 1 else "packages"
    parts = [f"Installed {installed} {noun} in {install_ms:.0f}ms"]
    if removed:
        parts.append(f"removed {removed}")
    if downloaded:
        parts.append(f"downloaded {downloaded} in {download_ms:.0f}ms")
    if built:
        parts.append(f"built {', '.join(built)}")
    return parts[0] + (f" ({', '.join(parts[1:])})" if parts[1:] else "")
