"""A stale ``ghostenv sync`` (or ``run``) without packaging: lock -> wheels -> install engine.

A sync into a fresh environment from a warm store is mostly linking; the full
path spent as long again importing packaging, the lock and project models and
argparse before the first link. This module does the same job with the
standard library and the install engine, for ``--frozen`` and for a lock that
:mod:`ghostenv.lock.current` vouches satisfies pyproject.toml:

* pyproject.toml and uv.lock are read as plain dicts by a line scan
  (:mod:`ghostenv.lock.scan`; else the fast TOML subset, else ``tomllib``);
* packages are selected as :func:`ghostenv.lock.export.select_packages` does
  (:mod:`ghostenv.workflow.frozen_select`): the project's dependencies, its
  default groups (``[tool.uv] default-groups``, ``dev`` unless said otherwise),
  ``--group``/``--all-groups``/``--extra``/``--all-extras``, minus ``--no-dev``
  (uv's ``--no-group dev``) -- following only the edges whose marker holds for
  the interpreter (:mod:`ghostenv.lock.fast_markers`);
* the interpreter comes from the probe cache (:mod:`ghostenv.workflow.frozen_python`:
  its marker environment and wheel tags were recorded when it was probed), and
  each package's best wheel is picked by that tag order; a project with a build
  system brings its editable wheel from the build cache
  (:mod:`ghostenv.workflow.frozen_editable`);
* the install engine (:mod:`ghostenv.workflow.plan`) links (or downloads) them
  under the environment's lock, and the gate record is written so the next
  sync is the no-op fast path;
* when that made a new environment by hardlinks only, at a path where the
  store had registered one before (an environment that gets remade: a nox
  session, ``rm -rf .venv``, CI), its recipe is recorded
  (:mod:`ghostenv.workflow.recipe`), and the next sync into the same (deleted)
  path replays it while nothing it depends on changed
  (:mod:`ghostenv.workflow.replay`, tried before any of the above).

:func:`sync` returns None -- before anything is touched -- whenever the job
needs more: a build (an sdist, a git/path/directory source, an editable wheel
not built for this configuration yet), a workspace, conflict markers, an
interpreter request without a remembered answer, a marker outside the
supported subset, plugins installed, or anything that looks unusual. The
caller then runs the full path, which gives the answer (or the error) it
always gave. ``tests/workflow/test_frozen_sync.py`` compares the two paths'
environments file by file.
"""

from __future__ import annotations

import os
import sys
import time

from ghostenv.workflow.frozen_python import CHOICE_TTL, choose
from ghostenv.workflow.frozen_python import Fallback as _Fallback
from ghostenv.workflow.frozen_select import lock_input, locked_wheels, size
from ghostenv.workflow.replay import summary_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ghostenv.cli.progress import Progress
    from ghostenv.discover.interpreter import Interpreter
    from ghostenv.workflow.gate import Selection
    from ghostenv.workflow.plan import Wanted


__all__ = ["CHOICE_TTL", "foreign_config", "summary_line", "sync"]


def sync(project: str, env_dir: str, selection: Selection, *, cache_dir: str, quiet: bool,
         always_summary: bool, started: float | None = None, prechecked: bool = False,
         replay: bool = True) -> int | None:
    """Sync ``env_dir`` from the project's uv.lock; the exit code, or None to fall back.

    With ``--frozen`` the lock is taken as is; otherwise only when
    :func:`ghostenv.lock.current.lock_is_current` vouches that it satisfies
    pyproject.toml (what the full path then does too: use it without resolving).

    The gate has already said the environment is stale. ``always_summary``:
    print the summary line even when nothing changed (``sync``; ``run`` only
    when something did). ``started``: ``time.perf_counter()`` when the entry point
    began (``GHOSTENV_TIMINGS=1`` then shows the entry, gate check and plugin scan).
    ``prechecked``: :func:`ghostenv.workflow.replay.attempt` made the two checks below
    already. ``replay``: try the environment's recipe first (a new environment only;
    :func:`~ghostenv.workflow.replay.attempt` tried it already when False).
    """
    if os.name != "posix":
        return None
    if selection.checked and not prechecked:  # not --frozen: only a lock already verified
        from ghostenv.lock.current import lock_is_current

        if not os.path.isfile(os.path.join(project, "uv.lock")) or not lock_is_current(
                project, cache_dir):
            return None
    from ghostenv import plugins

    if not prechecked and plugins.plugins_declared():  # their hooks fire on the full path
        return None
    replaying = os.environ.get("GHOSTENV_REPLAY", "") != "0"
    if replaying and replay:  # the environment's recipe, when it holds (a new environment)
        from ghostenv.workflow.replay import replay as replay_recipe

        code = replay_recipe(project, env_dir, selection, cache_dir=cache_dir, quiet=quiet,
                             always_summary=always_summary, started=started)
        if code is not None:
            return code
    begin = time.perf_counter()
    try:
        job = _prepare(project, env_dir, selection, cache_dir)
    except _Fallback:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None  # odd input: the full path reports it properly
    job.marks += [("entry", started), ("entry+gate", begin)] if started is not None else [
        ("start", begin)]
    job.marks.append(("read+select", time.perf_counter()))
    job.capture = replaying
    code = _install(job, quiet=quiet, always_summary=always_summary)
    if os.environ.get("GHOSTENV_TIMINGS"):
        job.marks.append(("summary", time.perf_counter()))
        sys.stderr.write("timings: " + ", ".join(
            f"{name} {(t - job.marks[i][1]) * 1000:.1f} ms"
            for i, (name, t) in enumerate(job.marks[1:])) + "\n")
    return code


class _Job:
    """Everything decided before the environment is touched."""

    __slots__ = ("built", "cache_dir", "capture", "env_dir", "interpreter", "marks", "name",
                 "packages", "project", "selection", "wanted")

    def __init__(self, *, project: str, env_dir: str, selection: Selection, cache_dir: str,
                 name: str, interpreter: Interpreter, wanted: list[Wanted],
                 packages: dict[str, dict[str, Any]], built: tuple[str, ...]) -> None:
        self.project = project
        self.env_dir = env_dir
        self.selection = selection
        self.cache_dir = cache_dir
        self.name = name
        self.interpreter = interpreter
        self.wanted = wanted
        self.packages = packages
        """wheel file name -> its lock package (sizes for the download display)"""
        self.built = built
        self.marks: list[tuple[str, float]] = []
        """(phase, perf_counter at its end), printed under ``GHOSTENV_TIMINGS=1``"""
        self.capture = False
        """Record a recipe (:mod:`ghostenv.workflow.recipe`) when the sync makes a new
        environment at a path where the store had registered one before"""


def _read_toml(path: str, *, lock: bool = False) -> dict[str, Any]:
    """The document at ``path``: a uv.lock by :func:`ghostenv.lock.scan.scan` (what the
    install needs, no regular expressions), else the fast TOML subset, else tomllib."""
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8")
    if lock:
        from ghostenv.lock.scan import scan

        found = scan(text)
        if found is not None:
            return found
    else:
        from ghostenv.lock.scan import scan_simple

        found = scan_simple(text)
        if found is not None:
            return found
    from ghostenv.lock.fast_toml import parse_canonical

    doc = parse_canonical(text)
    if doc is None:
        import tomllib

        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise _Fallback from exc
    return doc


def _prepare(project: str, env_dir: str, selection: Selection, cache_dir: str) -> _Job:
    from ghostenv.lock.fast_markers import canonical_name

    pyproject = _read_toml(os.path.join(project, "pyproject.toml"))
    table = pyproject["project"]
    name = canonical_name(table["name"])
    tool = pyproject.get("tool", {})
    uv = tool.get("uv", {})
    if not isinstance(uv, dict) or "workspace" in uv:
        raise _Fallback
    package = uv.get("package")
    virtual = not package if isinstance(package, bool) else not isinstance(
        pyproject.get("build-system"), dict)
    groups = _names(pyproject.get("dependency-groups", {}), "include-group")
    extras = _names(table.get("optional-dependencies", {}), None)
    defaults = uv.get("default-groups", ["dev"])
    if defaults == "all":
        defaults = [canonical_name(g) for g in pyproject.get("dependency-groups", {})]
    if not isinstance(defaults, list) or not all(isinstance(g, str) for g in defaults):
        raise _Fallback  # the full path names the bad value
    wanted_groups = [] if selection.no_default_groups else [canonical_name(g) for g in defaults]
    for group in selection.groups:
        if canonical_name(group) not in groups:
            raise _Fallback  # the full path names the unknown group
        wanted_groups.append(canonical_name(group))  # uv.lock spells them normalized
    all_groups = selection.all_groups
    if selection.no_dev:  # uv: `--no-group dev`, which wins over defaults, --group, --all-groups
        if all_groups:
            wanted_groups, all_groups = sorted(groups), False
        wanted_groups = [g for g in wanted_groups if g != "dev"]
    wanted_groups = list(dict.fromkeys(wanted_groups))
    for extra in selection.extras:
        if canonical_name(extra) not in extras:
            raise _Fallback

    interpreter = choose(project, env_dir, selection.python, table.get("requires-python"),
                         cache_dir)
    wanted, sizes = locked_wheels(
        project, name, interpreter, groups=wanted_groups,
        extras=list(dict.fromkeys(canonical_name(e) for e in selection.extras)),
        all_groups=all_groups, all_extras=selection.all_extras, cache_dir=cache_dir,
        read=lambda path: _read_toml(path, lock=True))
    built: tuple[str, ...] = ()
    if not virtual and not selection.no_install_project:  # installed editable: a cached build
        from ghostenv.workflow.frozen_editable import cached_editable

        wanted.append(cached_editable(project, name, interpreter, cache_dir))
        built = (f"{name} (editable)",)
    return _Job(project=project, env_dir=env_dir, selection=selection, cache_dir=cache_dir,
                name=name, interpreter=interpreter, wanted=wanted, packages=sizes, built=built)


def _names(table: object, include_key: str | None) -> set[str]:
    """Normalized keys of ``[dependency-groups]`` / ``[project.optional-dependencies]``,
    after the shape checks the full path's project reader makes."""
    from ghostenv.lock.fast_markers import canonical_name

    if not isinstance(table, dict):
        raise _Fallback
    names = {canonical_name(key) for key in table}
    if len(names) != len(table):
        raise _Fallback  # duplicates after normalization: the full path reports them
    for items in table.values():
        if not isinstance(items, list):
            raise _Fallback
        for item in items:
            if isinstance(item, str):
                continue
            if (include_key is None or not isinstance(item, dict) or set(item) != {include_key}
                    or not isinstance(item[include_key], str)
                    or canonical_name(item[include_key]) not in names):
                raise _Fallback
    return names


# --- the environment ----------------------------------------------------------------------


def _foreign(env_dir: str, interpreter: Interpreter) -> str | None:
    """Why the existing venv cannot be refreshed for ``interpreter`` (None if it can), as
    :func:`ghostenv.workflow.sync._foreign_interpreter`."""
    try:
        with open(os.path.join(env_dir, "pyvenv.cfg"), encoding="utf-8") as handle:
            text = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return foreign_config(text, interpreter)


def foreign_config(text: str, interpreter: Interpreter) -> str | None:
    """Why a venv whose pyvenv.cfg reads ``text`` cannot serve ``interpreter`` (None if it
    can): another Python minor version or implementation. Shared with the full path."""
    values = {key.strip(): value.strip()
              for key, sep, value in (line.partition("=") for line in text.splitlines()) if sep}
    have = values.get("version_info", values.get("version", ""))
    want = interpreter.python_version
    if ".".join(have.split(".")[:2]) != want:
        return f"it was made for Python {have or 'unknown'}, not {want}"
    impl = values.get("implementation")
    if impl is not None and impl.lower() != interpreter.implementation.lower():
        return f"it was made for {impl}, not {interpreter.implementation}"
    return None


def _install(job: _Job, *, quiet: bool, always_summary: bool) -> int:
    """Lock the environment, link the wheels, record the gate; errors as the CLI prints them."""
    from ghostenv.errors import EXIT_INTERRUPTED, GhostenvError, exit_code_for, from_os_error

    try:
        line = _apply(job, quiet=quiet)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return EXIT_INTERRUPTED
    except GhostenvError as exc:
        _error(exc.message, exc.hint)
        return exit_code_for(exc)
    except OSError as exc:
        err = from_os_error(exc, action="running `ghostenv sync`")
        _error(err.message, err.hint)
        return exit_code_for(err)
    except Exception as exc:  # the CLI's one-line rule, as cli.sync.direct
        _error(f"internal error in `ghostenv sync`: {type(exc).__name__}: {exc}",
               "run again with GHOSTENV_NO_GATE=1 and -vv for the traceback")
        return 1
    if line is not None and not quiet and (always_summary or not line[1]):
        sys.stderr.write(line[0] + "\n")
    return 0


def _error(message: str, hint: str | None) -> None:
    from ghostenv.cli.output import Context

    Context(color=os.environ.get("GHOSTENV_COLOR", "auto")).error(message, hint)


def _apply(job: _Job, *, quiet: bool) -> tuple[str, bool] | None:
    """Do the sync; ``(summary line, nothing changed)``. On a terminal the full path's
    progress display shows the phases and the downloads (bytes from the lock)."""
    display = None
    if not quiet and sys.stderr.isatty():
        from ghostenv.cli.progress import Progress

        display = Progress(sys.stderr)
        display.phase("Preparing")
    try:
        result = _apply_with(job, quiet=quiet, display=display)
    finally:
        if display is not None:
            display.close()
    if result is not None and result[2] is not None and not quiet:
        from ghostenv.cli.output import Context

        Context(color=os.environ.get("GHOSTENV_COLOR", "auto")).warn(
            f"recreated {job.env_dir}: {result[2]}")
    return None if result is None else result[:2]


def _apply_with(job: _Job, *, quiet: bool,
                display: Progress | None) -> tuple[str, bool, str | None] | None:
    from ghostenv.materialize.venv import create_venv
    from ghostenv.store import Store
    from ghostenv.workflow import gate
    from ghostenv.workflow.plan import Action, apply_plan, installed_dists, normalize, plan_install

    # Strings throughout: the engine takes them, and pathlib (with the re, fnmatch and
    # urllib.parse it imports) would cost ~5 ms of a ~50 ms sync.
    store = Store(os.path.join(job.cache_dir, "store"))  # type: ignore[arg-type]
    env_path = job.env_dir
    selection = job.selection
    interp = job.interpreter
    offline = os.environ.get("GHOSTENV_OFFLINE", "") not in ("", "0")
    progress: Callable[[str], None] = display if display is not None else _quiet
    job.marks.append(("engine imports", time.perf_counter()))
    with store.lock_environment(env_path):
        if gate.check(job.project, job.env_dir, selection) is None:  # a concurrent sync did it
            return summary_line(0, 0.0), True, None
        fresh = not os.path.lexists(env_path)
        made_before = False
        if fresh:  # a replay killed before its rename left its tree beside: ours to remove
            from ghostenv.store.refs import ENVS
            from ghostenv.workflow.replay import path_key, remove_tree, temp_path

            if os.path.lexists(temp_path(env_path)):
                remove_tree(temp_path(env_path))
            # An environment the store registered at this path before (and that is gone
            # now) is one that gets remade: nox sessions, `rm -rf .venv`, CI. Only such a
            # one pays for recording a recipe (~5 ms web, ~20 ms data); a first sync into
            # a new path does not.
            made_before = os.path.exists(
                os.path.join(job.cache_dir, "store", ENVS, f"{path_key(env_path)}.json"))
        gate.forget(job.env_dir)
        stale = _foreign(job.env_dir, interp)
        job.marks.append(("lock+gate", time.perf_counter()))
        layout = create_venv(env_path, interp, clear=stale is not None, prompt=job.name,
                             command=f"ghostenv sync --python {interp.base_executable_str}")
        job.marks.append(("venv", time.perf_counter()))
        extraneous = 0
        if not selection.exact:
            names = {normalize(w.name) for w in job.wanted} | {job.name}
            extraneous = sum(1 for name in installed_dists(layout) if name not in names)
        keep = (job.name,)
        plan = plan_install(job.wanted, layout, store, exact=selection.exact, keep=keep)
        job.marks.append(("plan", time.perf_counter()))
        if display is not None:
            display.expect({s.wanted.filename: size(job.packages.get(s.wanted.filename),
                                                    s.wanted.filename)
                            for s in plan.of(Action.DOWNLOAD) if s.wanted is not None})
            display.phase("Installing")
        done = apply_plan(plan, layout, store, progress=progress, offline=offline,
                          exact=selection.exact)
        job.marks.append(("apply", time.perf_counter()))
        for note in done.fallbacks:
            progress(note)
        if extraneous == 0:
            selection = selection.as_exact()
        known = lock_input(job.project)  # uv.lock's digest, when the selection memo has it
        gate.record(job.project, job.env_dir, selection, interpreter=layout.python_str,
                    site_packages=list(dict.fromkeys((layout.purelib_str, layout.platlib_str))),
                    count=len(job.wanted),
                    inputs={"uv.lock": known} if known is not None else None)
        job.marks.append(("record", time.perf_counter()))
        if fresh and made_before and job.capture:  # the next sync into a new env here replays it
            from ghostenv.workflow.recipe import capture

            why = capture(job, plan, done, layout, store)
            if why is not None and os.environ.get("GHOSTENV_TIMINGS"):
                sys.stderr.write(f"no recipe: {why}\n")
            job.marks.append(("recipe", time.perf_counter()))
    line = summary_line(len(done.installed), done.install_ms, removed=len(done.removed),
                        downloaded=done.downloaded, download_ms=done.download_ms,
                        built=job.built)
    return line, not (done.installed or done.removed), stale


def _quiet(_text: str) -> None:
    """The progress sink when nothing is displayed."""
