"""Recording a fresh environment's recipe, for :mod:`ghostenv.workflow.replay`.

Runs at the end of an engine sync (:func:`ghostenv.workflow.frozen._apply_with`)
that made an environment which did not exist before, still under the
environment's lock. The hardlinks come from the engine's own data -- each
wheel's :class:`~ghostenv.store.LinkIndex` (install root, object, target) --
and everything else from one walk of the finished environment: directories
with their modes, symlinks, and every file the link map does not name,
read as bytes (pyvenv.cfg, activate scripts, launchers, RECORD, INSTALLER,
``direct_url.json``, ``.pth`` files ...). No recipe is recorded when anything
was placed other than by hardlink (a clone or copy fallback, another link
mode: ``PlanReport.modes``), when a file the link map does not name is a
hardlink or not a regular file, when a linked file is missing, or when two
wheels claim one path: the replay would not give what the engine gives.

The key (what :func:`ghostenv.workflow.replay._valid` checks) is taken from
what the engine used: the gate record just written (input stats and digests
at the same instant), the interpreter's files as the probe cache keys them,
the choice memo that named the interpreter, the editable wheel's build key.
A capture costs one walk of the environment (directory entries, a ``stat`` per
directory, the written files read: ~3 ms for ~1,000 files) and
runs only when no valid recipe was there; it never fails a sync.
"""

from __future__ import annotations

import marshal
import os
import time

from ghostenv.workflow import gate
from ghostenv.workflow.replay import (
    CHOICE_TTL,
    environ_key,
    recipe_path,
    seal,
    umask,
)

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from typing import Any

    from ghostenv.materialize.venv import VenvLayout
    from ghostenv.store import Store
    from ghostenv.store.manifest import LinkIndex
    from ghostenv.workflow.frozen import _Job
    from ghostenv.workflow.plan import InstallPlan, PlanReport

#: Link modes a recipe can stand for (``PlanReport.modes`` keys): hardlinks, and the
#: installer's own files (found by the walk).
_REPLAYABLE = frozenset({"hardlink", "written"})
#: Recipes kept (the most recently recorded); older ones are removed by the next capture.
KEEP = 32
#: Every this many linked files one is checked to be a hardlink (a ``stat`` each would cost
#: ~1 ms per 1,000 files; the engine's own count of modes is the real check).
SAMPLE = 32


class NotReplayable(Exception):
    """This environment cannot be described by a recipe (the reason is the message)."""


def capture(job: _Job, plan: InstallPlan, done: PlanReport, layout: VenvLayout,
            store: Store) -> str | None:
    """Record the recipe of ``job.env_dir`` (just made); None, or why there is none."""
    env = os.path.abspath(job.env_dir)
    path = recipe_path(job.cache_dir, env, job.selection)
    try:
        doc = describe(job, plan, done, layout, store)
    except NotReplayable as exc:
        _drop(path)
        return str(exc)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        _drop(path)
        return f"{type(exc).__name__}: {exc}"
    from ghostenv._fast import write_small

    payload = marshal.dumps(doc)
    try:
        write_small(path, seal(payload), make_parent=True)
        _trim(os.path.dirname(path))
    except OSError as exc:
        return f"cannot write {path}: {exc}"
    return None


def _trim(folder: str) -> None:
    """Keep the :data:`KEEP` most recently recorded or replayed recipes (a replay touches
    its recipe); one per environment path ever synced would grow without bound (a
    recipe of the data workload is ~1.7 MB)."""
    names = os.listdir(folder)
    if len(names) <= KEEP + KEEP // 4:  # (then down to KEEP: a stat each, not every time)
        return
    aged = []
    for name in names:
        try:
            aged.append((os.stat(os.path.join(folder, name)).st_mtime_ns, name))
        except FileNotFoundError:
            continue
    aged.sort()
    for _, name in aged[:len(aged) - KEEP]:
        _drop(os.path.join(folder, name))


def _drop(path: str) -> None:
    try:  # noqa: SIM105 - contextlib costs an import on the fast path
        os.unlink(path)
    except OSError:
        pass


def describe(job: _Job, plan: InstallPlan, done: PlanReport, layout: VenvLayout,
             store: Store) -> dict[str, Any]:
    """The recipe of the environment ``job`` made: operations and validity key."""
    from ghostenv.store.cas import EXEC_OBJECTS, OBJECTS

    env = os.path.abspath(job.env_dir)
    if set(done.modes) - _REPLAYABLE:
        raise NotReplayable(f"files placed by {', '.join(sorted(done.modes))}")
    if os.environ.get("GHOSTENV_LINK_MODE", "").strip().lower() not in ("", "hardlink"):
        raise NotReplayable("GHOSTENV_LINK_MODE is set")
    state = gate.load(env)
    if state is None:
        raise NotReplayable("no gate record")
    indexes = _indexes(plan, store)
    links, trees = _link_map(indexes, layout, env)
    dirs, symlinks, groups, files, root_mode = _walk(env, links, trees)
    interp = job.interpreter.path_str
    cfg = os.path.join(os.path.dirname(os.path.dirname(interp)), "pyvenv.cfg")
    memo, cwd = _choice(job)
    return {
        "env": env,
        "project": os.path.abspath(job.project),
        "selection": job.selection.key(),
        "python": job.selection.python,
        "checked": job.selection.checked,
        "environ": environ_key(),
        "umask": umask(),
        "dev": os.stat(os.path.dirname(env)).st_dev,
        "cwd": cwd,
        "interp": ((interp, gate._stat(interp)), (cfg, gate._stat(cfg))),
        "memo": memo,
        "inputs": tuple((name, *state.inputs[name]) for name in gate.INPUTS),
        "time": state.time,
        "editable": _editable(job),
        "store": store.root_dir,
        "plain_tree": OBJECTS,
        "exec_tree": EXEC_OBJECTS,
        "root_mode": root_mode,
        **_tasks(dirs, symlinks, groups, files,
                 [os.path.relpath(site, env) for site in (layout.purelib_str,
                                                          layout.platlib_str)]),
        "gate": (layout.python_str, list(dict.fromkeys((layout.purelib_str,
                                                        layout.platlib_str))),
                 len(job.wanted)),
        "track": _track(indexes, env),
        "summary": (len(done.installed), tuple(job.built)),
    }


def _indexes(plan: InstallPlan, store: Store) -> dict[str, tuple[LinkIndex, bool]]:
    """Each installed step's link index (those downloaded now are in the store too), and
    whether it was requested (a REQUESTED file)."""
    out: dict[str, tuple[LinkIndex, bool]] = {}
    for step in plan.steps:
        if step.action not in ("link", "download") or step.wanted is None:
            raise NotReplayable(f"{step.name}: {step.action}")
        index = step.manifest
        if index is None and step.wanted.sha256:
            index = store.get_link_index(step.wanted.sha256)
        if index is None:
            raise NotReplayable(f"{step.name}: no link index in the store")
        out[step.name] = (index, step.wanted.requested)
    return out


#: A wheel's top-level directory under site-packages, known from its link index: its
#: directories (below it, parents first), its plain and executable ``(object, target)``
#: with targets relative to its install root, and that root (environment-relative).
Tree = tuple[dict[str, None], list[tuple[str, str]], list[tuple[str, str]], str]


def _link_map(indexes: dict[str, tuple[LinkIndex, bool]], layout: VenvLayout,
              env: str) -> tuple[dict[str, tuple[bool, str]], dict[str, Tree]]:
    """Every linked file as :func:`ghostenv.materialize.install.install_many` places it
    (with the installer's constant files -- INSTALLER, REQUESTED -- when it links those
    from the store), environment-relative: ``(links, trees)``.

    ``trees`` holds the wheels' top-level directories (``numpy``): their content is
    exactly what the link indexes say, so the walk does not descend into them (most of
    an environment's entries); ``links`` the rest (loose top-level files, dist-info
    directories, ``.data`` files), which the walk checks. A top-level directory a
    ``.data/purelib`` or ``platlib`` file lands in is walked like the rest.
    """
    from ghostenv.materialize import install
    from ghostenv.store.manifest import object_rel

    constant_files = getattr(install, "constant_files", None)

    def rel(path: str) -> str:
        return os.path.relpath(path, env).replace(os.sep, "/")

    include = f"{layout.root_str}/include/site/python{layout.interpreter.python_version}"
    out: dict[str, tuple[bool, str]] = {}
    trees: dict[str, Tree] = {}

    def add(links: dict[str, tuple[bool, str]], target: str, value: tuple[bool, str]) -> None:
        if links.setdefault(target, value) != value:
            raise NotReplayable(f"two wheels place {target}")

    data: list[tuple[str, tuple[bool, str]]] = []
    walked: set[str] = set()  # top-level directories .data files land in
    for index, _ in indexes.values():
        scheme = {"purelib": layout.purelib_str, "platlib": layout.platlib_str,
                  "data": layout.root_str, "headers": f"{include}/{index.name}"}
        prefix = len(index.data_dir) + 1
        for item in index.data:
            part, _, rest = item.path[prefix:].partition("/")
            if part == "scripts":
                continue  # rewritten (shebang): the walk reads it
            if part not in scheme:
                raise NotReplayable(f"{index.filename}: .data part {part}")
            if part in ("purelib", "platlib") and "/" in rest:
                walked.add(f"{rel(scheme[part])}/{rest.partition('/')[0]}")
            data.append((rel(f"{scheme[part]}/{rest}"),
                         (item.executable, object_rel(item.sha256))))
    shared: set[str] = set()  # top-level directories two wheels put files in
    for index, requested in indexes.values():
        root = rel(layout.purelib_str if index.root_is_purelib else layout.platlib_str)
        for name, d0, d1, p0, p1, x0, x1 in index.groups:
            top = f"{root}/{name}"
            if not name or name == index.dist_info or top in walked:
                for src, dst in index.plain[p0:p1]:
                    add(out, f"{root}/{dst}", (False, src))
                for src, dst in index.executables[x0:x1]:
                    add(out, f"{root}/{dst}", (True, src))
                continue
            if top in trees:
                shared.add(top)  # (a namespace package): checked for clashes below
            tree = trees.setdefault(top, ({}, [], [], root))
            for folder in index.dirs[d0:d1]:
                if folder != name:
                    tree[0][f"{root}/{folder}"] = None
            tree[1].extend(index.plain[p0:p1])  # (targets relative to the root, as given)
            tree[2].extend(index.executables[x0:x1])
        if constant_files is not None:
            for name, src in constant_files(requested):
                add(out, f"{root}/{index.dist_info}/{name}", (False, src))
    for target, value in data:
        add(out, target, value)
    for top in shared:
        placed: dict[str, tuple[bool, str]] = {}
        for executable, pairs in ((False, trees[top][1]), (True, trees[top][2])):
            for src, target in pairs:
                add(placed, target, (executable, src))
    return out, trees


#: Links of one directory or tree: the directory their targets are relative to ("": the
#: environment), plain and executable ``(object, target)``.
Group = tuple[str, list[tuple[str, str]], list[tuple[str, str]]]


def _walk(env: str, links: dict[str, tuple[bool, str]], trees: dict[str, Tree]) -> tuple[
        list[tuple[str, int]], list[tuple[str, str]], dict[str, Group],
        list[tuple[str, bytes, int]], int]:
    """One pass over the finished environment: directories (parents first, with modes),
    symlinks, the links (plain and executable, grouped by top-level tree or directory)
    and the written files' bytes. A wheel's top-level directory (``trees``) is not
    entered: its directories and links are the link index's (made with the mode of the
    top one, as the engine makes them all)."""
    dirs: list[tuple[str, int]] = []
    symlinks: list[tuple[str, str]] = []
    groups: dict[str, Group] = {}
    files: list[tuple[str, bytes, int]] = []
    seen = 0
    found = 0
    stack = [""]
    while stack:
        folder = stack.pop()
        with os.scandir(os.path.join(env, folder) if folder else env) as entries:
            for entry in entries:  # d_type answers most of it: one stat per directory only
                rel = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_symlink():
                    symlinks.append((os.readlink(entry.path), rel))
                elif entry.is_dir():
                    mode = entry.stat().st_mode & 0o7777
                    dirs.append((rel, mode))
                    tree = trees.get(rel)
                    if tree is None:
                        stack.append(rel)
                        continue
                    found += 1
                    dirs.extend((sub, mode) for sub in tree[0])
                    groups[rel] = (tree[3], tree[1], tree[2])
                    for _src, target in (*tree[1][::SAMPLE], *tree[2][::SAMPLE]):
                        if os.lstat(f"{env}/{tree[3]}/{target}").st_nlink < 2:
                            raise NotReplayable(f"{target}: not hardlinked")
                elif rel in links:  # placed by hardlink (the engine's modes said so) ...
                    executable, src = links[rel]
                    group = groups.setdefault(folder, ("", [], []))
                    (group[2] if executable else group[1]).append((src, rel))
                    seen += 1
                    if seen % SAMPLE == 1 and entry.stat(follow_symlinks=False).st_nlink < 2:
                        raise NotReplayable(f"{rel}: not hardlinked")  # ... checked by samples
                elif rel != gate.STATE_NAME:  # (the replay writes its own gate record)
                    files.append((rel, *_read(entry.path, rel)))
    if seen != len(links) or found != len(trees):
        raise NotReplayable("linked files or directories missing")
    return dirs, symlinks, groups, files, os.stat(env).st_mode & 0o7777


def _tasks(dirs: list[tuple[str, int]], symlinks: list[tuple[str, str]],
           groups: dict[str, Group], files: list[tuple[str, bytes, int]],
           sites: list[str]) -> dict[str, Any]:
    """The operations as the replay runs them: ``skeleton`` (directories outside
    site-packages, and it) and ``symlinks`` there, made first by one thread; then
    ``tasks``, one per top-level tree of site-packages (``numpy``, a dist-info, ...)
    plus one for the rest, each ``(cost, base, directories, plain links, executable
    links, files, symlinks)`` and independent of the others, cheapest first; the two
    threads take them as they free up, biggest first (so a thread seldom works in a
    directory the other one is changing). Link targets are relative to ``bases[base]``
    (site-packages for its trees: shorter strings, shorter lookups; "" the environment).
    """
    bases = ["", *dict.fromkeys(sites)]

    def top(rel: str) -> tuple[str, int]:
        for number, site in enumerate(bases[1:], 1):
            if rel.startswith(site + "/"):
                return rel[:len(site) + 1] + rel[len(site) + 1:].partition("/")[0], number
        return "", 0

    skeleton: list[tuple[str, int]] = []
    outside: list[tuple[str, str]] = []
    tasks: dict[str, tuple[int, list[Any], list[Any], list[Any], list[Any], list[Any]]] = {}

    def task(key: tuple[str, int]) -> tuple[int, list[Any], list[Any], list[Any], list[Any],
                                             list[Any]]:
        return tasks.setdefault(key[0], (key[1], [], [], [], [], []))

    for rel, mode in dirs:
        key = top(rel)
        (task(key)[1] if key[0] else skeleton).append((rel, mode))
    for folder, (base, *given) in groups.items():
        key = top(folder) if folder else ("", 0)
        number = task(key)[0]
        links = given
        if base != bases[number]:  # environment-relative -> relative to the task's base
            cut = len(bases[number]) + 1 if number else 0
            prefix = f"{base}/" if base else ""
            links = [[(src, (prefix + dst)[cut:]) for src, dst in pairs] for pairs in given]
        task(key)[2].extend(links[0])
        task(key)[3].extend(links[1])
    for item in files:
        task(top(item[0]))[4].append(item)
    for target, rel in symlinks:
        key = top(rel)
        (task(key)[5] if key[0] else outside).append((target, rel))
    out = []
    for number, dirs_, plain, executables, files_, made in tasks.values():
        cost = 3 * len(dirs_) + len(plain) + len(executables) + 3 * len(files_)
        out.append((cost, number, tuple(dirs_), _blob(plain), _blob(executables),
                    tuple(files_), tuple(made)))
    out.sort(key=lambda t: t[0])  # the replay's threads take the biggest (last) first
    return {"skeleton": tuple(skeleton), "symlinks": tuple(outside), "bases": tuple(bases),
            "tasks": tuple(out)}


def _blob(pairs: list[tuple[str, str]]) -> bytes:
    """``object NUL target NUL ...`` (:func:`ghostenv.workflow.replay.link_pairs` reads it),
    encoded in one go."""
    from itertools import chain

    return os.fsencode("\0".join(chain.from_iterable(pairs)))


def _track(indexes: dict[str, tuple[LinkIndex, bool]], env: str
           ) -> tuple[list[str], dict[str, str], str]:
    """What the engine gave :meth:`ghostenv.store.Store.track` (wheels, installed), and the
    record it writes for them when it replaces the old one (an exact sync)."""
    from ghostenv.store import jsonlite

    wheels = [index.wheel_sha256 for index, _ in indexes.values()]
    installed = {name: index.wheel_sha256 for name, (index, _) in indexes.items()}
    text = jsonlite.dumps({"installed": installed, "path": env, "wheels": sorted(set(wheels))})
    return wheels, installed, text


def _read(path: str, rel: str) -> tuple[bytes, int]:
    """A file the installer wrote: its bytes and mode (anything else: not replayable)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        if st.st_mode & 0o170000 != 0o100000:
            raise NotReplayable(f"{rel}: not a file, directory or symlink")
        if st.st_nlink > 1:
            raise NotReplayable(f"{rel}: a hardlink the recipe does not know")
        chunks = []
        while chunk := os.read(fd, max(st.st_size, 1 << 16)):
            chunks.append(chunk)
        return b"".join(chunks), st.st_mode & 0o7777
    finally:
        os.close(fd)


def _choice(job: _Job) -> tuple[tuple[str, str] | None, str | None]:
    """How :func:`ghostenv.workflow.frozen_python.choose` found the interpreter for an
    environment that did not exist: ``(memo file, the path it named)`` when through the
    one-hour choice memo, else the working directory when a relative path named it."""
    from ghostenv.workflow.frozen import _read_toml
    from ghostenv.workflow.frozen_python import _canonical_specifier, python_version_file

    request = job.selection.python
    if request is None:
        pinned = python_version_file(job.project)
        if pinned is not None:
            request = pinned
        else:
            wanted = _read_toml(os.path.join(job.project, "pyproject.toml"))["project"].get(
                "requires-python")
            if wanted is not None:
                request = _canonical_specifier(wanted)
    raw = (request or "").strip()
    if os.sep in raw or raw.startswith((".", "~")) or (raw and os.path.isfile(raw)):
        absolute = os.path.isabs(os.path.expanduser(raw))
        return None, None if absolute else os.getcwd()
    from ghostenv._fast import sha256_hex

    key = sha256_hex("\0".join((request or "", os.environ.get("PATH", ""),
                                os.environ.get("VIRTUAL_ENV", ""))).encode())
    memo = os.path.join(job.cache_dir, "interpreter-choice-v1", f"{key[:32]}.txt")
    if time.time() - os.stat(memo).st_mtime >= CHOICE_TTL:
        raise NotReplayable("the interpreter choice memo expired")
    with open(memo, encoding="utf-8") as handle:
        named = handle.read().strip()
    if named != job.interpreter.path_str:
        raise NotReplayable("the interpreter choice memo changed")
    return (memo, named), None


def _editable(job: _Job) -> tuple[str, str, list[str], str, str] | None:
    """The editable project's build key, cached wheels and the one used (None: no project
    installed). The key is the one the sync used (its wheel's folder): computed now, it
    could see the new environment's directory in the project (another name than .venv)."""
    if not job.built:
        return None
    from ghostenv.workflow.frozen_editable import BUILT

    wheel = next((w for w in job.wanted if w.path is not None and w.name == job.name), None)
    if wheel is None or wheel.path is None:
        raise NotReplayable("no editable wheel")
    wheel_path = os.fspath(wheel.path)
    folder = os.path.dirname(wheel_path)
    key = os.path.basename(os.path.dirname(folder))
    if folder != os.path.join(job.cache_dir, "store", BUILT, key[:2], key, "editable"):
        raise NotReplayable("the editable wheel is not in the build cache")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".whl"))
    return key, folder, names, os.path.basename(wheel_path), gate._stat(wheel_path)
