"""Project Ghost: the locked environment of any git revision, without touching the worktree.

``uv.lock`` and ``pyproject.toml`` are read from the object database (one
``git cat-file --batch`` for ``REV:./uv.lock`` and ``REV:./pyproject.toml``,
paths relative to the project directory), and the
lock is materialized from the content-addressed store into a cached
environment under ``<cache>/ghost/v1/envs/``. The directory name is the
sha256 of the lock's bytes plus the interpreter and the group/extra
selection, so every commit that shares a lock shares one environment, and
going back to a lock seen before costs no install at all. (A lock naming
local paths -- ``path``/``directory``/``editable`` sources -- depends on where
the project is too, so its key includes the project directory and it skips
the blob index.)

Two paths, like the gate of ``sync``:

- :func:`lookup` is stdlib-only. ``git rev-parse REV:./uv.lock`` names the
  lock's blob, which *is* a content hash; a small file
  ``by-blob/<blob>-<variant>`` (variant: ``--python`` as given and the
  selection) remembers which environment that blob was
  materialized into. A hit costs one ``git`` process and two ``stat`` calls.
- :func:`materialize` does the work on a miss: parse the lock (the
  pyproject only gives the project's name: the lock alone decides what is
  installed, exactly as ``sync --frozen`` at that commit would), find the
  interpreter, :func:`ghostenv.workflow.sync.sync_environment` into the
  environment, then write a completion marker and the blob entry (in that
  order, so a half-built environment is never looked up).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from ghostenv.discover import Interpreter

#: Bumped when the layout under ``ghost/`` changes; old trees are simply ignored.
LAYOUT = "v1"
#: Written into an environment once it is complete.
MARKER = ".ghostenv-ghost"


def ghost_root(cache_dir: Path) -> Path:
    """Where ghost environments and their blob index live."""
    return cache_dir / "ghost" / LAYOUT


def _entry_path(cache_dir: str, blob: str, variant: str) -> str:
    return os.path.join(cache_dir, "ghost", LAYOUT, "by-blob", f"{blob}-{variant}")


class Selection:
    """What to install from the lock: groups and extras, as ``sync`` spells them.

    A plain slotted class (no dataclasses import: the lookup path is os-only).
    """

    __slots__ = ("all_extras", "all_groups", "extras", "groups", "no_dev")

    def __init__(self, groups: Sequence[str] = (), extras: Sequence[str] = (), *,
                 no_dev: bool = False, all_groups: bool = False,
                 all_extras: bool = False) -> None:
        self.groups = tuple(sorted(set(groups)))
        self.extras = tuple(sorted(set(extras)))
        self.no_dev = no_dev
        self.all_groups = all_groups
        self.all_extras = all_extras

    def key(self) -> str:
        """``""`` for the default selection (the dev group), else a short digest."""
        parts = (self.groups, self.extras, self.no_dev, self.all_groups, self.all_extras)
        if parts == ((), (), False, False, False):
            return ""
        import hashlib

        return hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


def variant_key(python: str | None, selection: Selection | None = None) -> str:
    """A file-name-safe key for ``--python`` as given plus the selection (blob index)."""
    extra = selection.key() if selection is not None else ""
    if not python and not extra:
        return "default"
    import hashlib

    return hashlib.sha256(f"{python or ''}\0{extra}".encode()).hexdigest()[:12]


def _spawn_git(cwd: str, args: list[str], stdin: bytes | None = None) -> tuple[int, bytes]:
    """``git -C cwd ARGS`` -> (exit status, stdout); stderr discarded; -1 if git cannot start.

    ``posix_spawn`` and pipes rather than :mod:`subprocess`, whose import costs
    more than the git call itself on these paths. ``stdin`` must fit a pipe
    buffer (it is a couple of object names).
    """
    spawn = getattr(os, "posix_spawnp", None)
    if spawn is None:  # not POSIX: the portable way
        import subprocess

        try:
            proc = subprocess.run(["git", "-C", cwd, *args], input=stdin,
                                  capture_output=True, check=False)
        except OSError:
            return -1, b""
        return proc.returncode, proc.stdout
    out_read, out_write = os.pipe()
    in_read, in_write = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = spawn("git", ["git", "-C", cwd, *args], os.environ, file_actions=[
            (os.POSIX_SPAWN_CLOSE, out_read),
            (os.POSIX_SPAWN_CLOSE, in_write),
            (os.POSIX_SPAWN_DUP2, in_read, 0),
            (os.POSIX_SPAWN_DUP2, out_write, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2),
        ])
    except OSError:
        os.close(out_read)
        os.close(in_write)
        return -1, b""
    finally:
        for fd in (out_write, in_read, devnull):
            os.close(fd)
    try:
        if stdin:
            os.write(in_write, stdin)
    finally:
        os.close(in_write)
    chunks = []
    while data := os.read(out_read, 1 << 16):
        chunks.append(data)
    os.close(out_read)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


def _git(project: Path, *args: str, stdin: str | None = None) -> tuple[int, bytes]:
    """:func:`_spawn_git` in ``project``; UsageError when git is missing or it is no directory."""
    from ghostenv.errors import UsageError

    if not project.is_dir():
        raise UsageError(f"{project}: not a directory")
    code, out = _spawn_git(str(project), list(args), stdin.encode() if stdin else None)
    if code == -1:
        raise UsageError("`git` was not found on PATH",
                         hint="ghostenv ghost reads revisions with git; install it")
    return code, out


def _git_stdout(cwd: str, args: list[str]) -> str | None:
    """``git ARGS`` output, stripped, or None on any failure."""
    code, out = _spawn_git(cwd, args)
    if code != 0:
        return None
    return out.decode("utf-8", "replace").strip() or None


def lock_blob(project: str | os.PathLike[str], rev: str) -> str | None:
    """The git blob id of ``uv.lock`` at ``rev`` (None when git cannot name it)."""
    return _git_stdout(os.fspath(project) or ".",
                       ["rev-parse", "--verify", "--quiet", f"{rev}:./uv.lock"])


def lookup(project: str | os.PathLike[str], rev: str, cache_dir: str | os.PathLike[str],
           python: str | None = None, selection: Selection | None = None) -> str | None:
    """The complete environment already made for ``rev``'s lock, or None.

    Stdlib ``os`` only: this is the whole cost of a second ``ghostenv ghost``.
    """
    blob = lock_blob(project, rev)
    if blob is None:
        return None
    try:
        with open(_entry_path(os.fspath(cache_dir), blob, variant_key(python, selection)),
                  encoding="utf-8") as handle:
            env = handle.read().strip()
    except OSError:
        return None
    marker = os.path.join(env, MARKER)
    try:
        os.utime(marker)  # last use, for `ghost --prune`
    except OSError:
        return env if os.path.isfile(marker) else None  # a read-only cache still answers
    return env


def read_revision(project: Path, rev: str) -> tuple[str, bytes, bytes | None]:
    """``(blob id, bytes)`` of ``uv.lock`` and the bytes of ``pyproject.toml`` (or None) at ``rev``.

    One ``git cat-file --batch`` process answers both paths, blob id included.
    """
    from ghostenv.errors import ProjectError

    wanted = [f"{rev}:./uv.lock", f"{rev}:./pyproject.toml"]
    code, out = _git(project, "cat-file", "--batch", stdin="".join(f"{w}\n" for w in wanted))
    if code != 0:
        raise ProjectError(f"{project}: not inside a git repository",
                           hint="ghostenv ghost reads revisions of the repository at --project")
    found: list[tuple[str, bytes] | None] = []
    for _ in wanted:
        line, _, out = out.partition(b"\n")
        fields = line.split()
        if len(fields) == 3 and fields[1] == b"blob":
            size = int(fields[2])
            found.append((fields[0].decode(), out[:size]))
            out = out[size + 1:]
        else:
            found.append(None)
    lock, pyproject = found
    if lock is None:
        exists, _ = _git(project, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if exists != 0:
            raise ProjectError(f"{project}: `{rev}` is not a git revision here",
                               hint="give a commit, branch or tag: `ghostenv ghost HEAD~3`")
        raise ProjectError(f"{project}: no uv.lock at revision `{rev}`",
                           hint="ghostenv ghost needs a committed uv.lock at that revision")
    return lock[0], lock[1], pyproject[1] if pyproject is not None else None


def environment_dir(cache_dir: Path, lock_bytes: bytes, interpreter: Interpreter,
                    selection: Selection | None = None, local_root: Path | None = None) -> Path:
    """The environment for one lock content, interpreter and selection (same lock = same dir).

    ``local_root``: the project directory, for locks whose local path sources
    resolve against it.
    """
    import hashlib

    digest = hashlib.sha256(lock_bytes)
    if local_root is not None:
        digest.update(b"\0" + os.fsencode(str(local_root)))
    lock_key = digest.hexdigest()[:24]
    where = hashlib.sha256(os.fsencode(str(interpreter.path))).hexdigest()[:8]
    chosen = selection.key() if selection is not None else ""
    name = f"{lock_key}-{interpreter.key}-{where}" + (f"-{chosen}" if chosen else "")
    return ghost_root(cache_dir) / "envs" / name


def materialize(project: Path, rev: str, cache_dir: Path, *, python: str | None = None,
                selection: Selection | None = None,
                progress: Callable[[str], None] = lambda _text: None) -> Path:
    """Make (or reuse) the environment of ``rev``'s uv.lock and return its directory."""
    import contextlib
    from pathlib import Path

    from ghostenv.lock.export import ExportOptions
    from ghostenv.lock.read import loads
    from ghostenv.store import Store
    from ghostenv.workflow.sync import sync_environment

    project = project.resolve()
    blob, lock_bytes, pyproject = read_revision(project, rev)
    lock = loads(lock_bytes.decode("utf-8"), filename=f"{rev}:uv.lock")
    name = _project_name(pyproject)
    interpreter = _interpreter(python or lock.requires_python or None, cache_dir)
    chosen = selection or Selection()
    local = any(p.source.kind in ("path", "directory", "editable") and p.source.value != "."
                for p in lock.packages)
    env = environment_dir(cache_dir, lock_bytes, interpreter, chosen,
                          local_root=project if local else None)
    if not (env / MARKER).is_file():
        env.parent.mkdir(parents=True, exist_ok=True)
        options = ExportOptions(
            extras=chosen.extras, all_extras=chosen.all_extras, all_groups=chosen.all_groups,
            groups=tuple(dict.fromkeys(([] if chosen.no_dev else ["dev"]) + list(chosen.groups))))
        report = sync_environment(lock, project, env, interpreter, Store(cache_dir / "store"),
                                  options=options, keep=(name,) if name else (),
                                  prompt=f"ghost-{name or 'env'}", progress=progress)
        progress(f"materialized {len(report.installed)} packages into {env} "
                 f"in {report.install_ms:.0f} ms")
        _write_small(env / MARKER, f"{rev}\n{interpreter.path}\n")
    else:
        with contextlib.suppress(OSError):
            os.utime(env / MARKER)
    if not local:
        _write_small(Path(_entry_path(os.fspath(cache_dir), blob, variant_key(python, chosen))),
                     f"{env}\n")
    return env


def _interpreter(request: str | None, cache_dir: Path) -> Interpreter:
    """The interpreter for ``request``, remembered per request text under the ghost root.

    Searching PATH and pyenv for ``>=3.11`` costs 30-70 ms; a remembered path
    is re-probed from the probe cache (under a millisecond) and still has to
    satisfy the request. It also keeps every commit of a bisect on the same
    interpreter, whatever PATH order does meanwhile (``--python`` picks another).
    """
    import hashlib

    from ghostenv.discover import find_interpreter, parse_request
    from ghostenv.errors import GhostenvError

    req = parse_request(request)
    if req.path is not None:
        return find_interpreter(req, cache_dir)
    memo = ghost_root(cache_dir) / "python" / hashlib.sha256(
        (request or "").encode()).hexdigest()[:16]
    try:
        known = find_interpreter(memo.read_text("utf-8").strip(), cache_dir)
        if req.matches(known):
            return known
    except (OSError, GhostenvError):
        pass
    found = find_interpreter(req, cache_dir)
    _write_small(memo, f"{found.path}\n")
    return found


def environments(cache_dir: Path) -> list[tuple[Path, float, str]]:
    """``(env, last use, revision it was first made for)`` of every complete environment."""
    found = []
    envs = ghost_root(cache_dir) / "envs"
    for env in sorted(envs.iterdir()) if envs.is_dir() else []:
        try:
            used = (env / MARKER).stat().st_mtime
            rev = (env / MARKER).read_text("utf-8").split("\n", 1)[0]
        except OSError:
            continue
        found.append((env, used, rev))
    return found


def prune(cache_dir: Path, older_than: float, *, now: float | None = None) -> list[Path]:
    """Remove environments not used for ``older_than`` seconds; returns what was removed.

    Blob-index entries pointing at them go too; half-built directories (no
    marker) older than that are removed as well. The store's records of the
    removed environments become dead, so ``ghostenv cache prune`` can then
    drop wheels nothing else uses.
    """
    import shutil
    import time

    limit = (time.time() if now is None else now) - older_than
    envs = ghost_root(cache_dir) / "envs"
    removed: list[Path] = []
    for env in sorted(envs.iterdir()) if envs.is_dir() else []:
        stamp = env / MARKER if (env / MARKER).exists() else env
        try:
            if stamp.stat().st_mtime >= limit:
                continue
        except OSError:
            continue
        shutil.rmtree(env, ignore_errors=True)
        removed.append(env)
    index = ghost_root(cache_dir) / "by-blob"
    gone = {str(env) for env in removed}
    for entry in index.iterdir() if index.is_dir() else []:
        try:
            target = entry.read_text("utf-8").strip()
        except OSError:
            continue
        if target in gone or not os.path.isdir(target):
            entry.unlink(missing_ok=True)
    return removed


def _write_small(path: Path, text: str) -> None:
    """Write a marker or index entry atomically but without fsync.

    Both are caches of facts that can be rebuilt: a crash losing one costs a
    re-materialization, which is cheaper than two fsyncs on every new lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _project_name(pyproject: bytes | None) -> str | None:
    """``[project] name`` (kept out of exact-sync removal, used in the prompt), if any.

    Plain tomllib: the full project reader would import packaging's requirement
    parser for a name. A malformed file is not this command's business.
    """
    import tomllib

    if pyproject is None:
        return None
    try:
        name = tomllib.loads(pyproject.decode("utf-8")).get("project", {}).get("name")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def command_environment(env: str | os.PathLike[str],
                        base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``os.environ`` as an activated ``env`` would have it (bin first on PATH, VIRTUAL_ENV)."""
    environ = dict(os.environ if base is None else base)
    scripts = os.path.join(env, "Scripts" if sys.platform == "win32" else "bin")
    environ["PATH"] = os.pathsep.join([str(scripts), *filter(None, [environ.get("PATH")])])
    environ["VIRTUAL_ENV"] = os.fspath(env)
    environ.pop("PYTHONHOME", None)
    return environ


def exec_in(env: str | os.PathLike[str], command: Sequence[str]) -> int:
    """Run ``command`` in ``env`` in place of this process; returns only if it cannot start.

    exec (not a child process) so the command's exit status, signals and
    terminal are exactly its own: ``git bisect run`` reads that status.
    """
    environ = command_environment(env)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(command[0], list(command), environ)
    except FileNotFoundError:
        sys.stderr.write(f"error: `{command[0]}` was not found in {os.fspath(env)} or on PATH\n")
        return 127
    except PermissionError:
        sys.stderr.write(f"error: `{command[0]}` is not executable\n")
        return 126
