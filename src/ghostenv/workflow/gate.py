"""The up-to-date gate: is this project's environment already what a sync would make?

Every ``ghostenv sync`` and ``ghostenv run`` asks this first, so the answer must
cost less than starting the rest of ghostenv. It is stdlib-only (not even
``json``, ``re`` or ``dataclasses``: each costs a millisecond or more to import)
and mostly ``stat`` calls.

After a successful sync :func:`record` writes a small text file into the
environment (``.ghostenv-gate``) holding:

* inputs -- ``pyproject.toml``, ``uv.lock`` and ``.python-version`` of the
  project: their ``stat`` (mtime_ns, size, inode) and sha256;
* the interpreter the environment runs (resolved path and stat);
* the selection (groups, extras, options) and whether the lock was checked
  against pyproject.toml (not ``--frozen``) and the sync was exact;
* outputs -- ``pyvenv.cfg``, ``bin/python`` and the site-packages directories
  (adding or removing a distribution, as ``pip install`` does, changes the
  directory's mtime);
* ghostenv's store schema, so a store layout change invalidates every record.

:func:`check` compares stats first (fast path). Inputs whose stat changed are
hashed (slow path); if the content is the same (a ``touch``, a checkout that
rewrote the file) the record is refreshed and the environment is fresh.

Racy writes: a file changed twice within one filesystem timestamp tick keeps
its mtime. An input modified less than :data:`RACY_NS` before the record was
written is therefore always hashed until it is old enough, then the record is
refreshed so the fast path applies again (git's "racy clean" rule).
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: File written inside the environment after each successful sync.
STATE_NAME = ".ghostenv-gate"
#: Bump when the state format or the meaning of a field changes.
FORMAT = "ghostenv-gate 2"
#: The store layout the environment's files were linked from (``ghostenv.store.cas.OBJECTS``;
#: a test keeps the two equal without importing the store here).
STORE_SCHEMA = "objects-v1"
#: Project files whose content decides what a sync installs.
INPUTS = ("pyproject.toml", "uv.lock", ".python-version")
#: An input modified this close to the record's time is hashed on every check.
RACY_NS = 1_000_000_000


class Selection:
    """What the user asked a sync (or run) to install; part of the fingerprint.

    ``checked``: the lock must have been validated against pyproject.toml (any
    mode but ``--frozen``). ``exact``: extraneous packages must have been
    removed (``sync`` without ``--inexact``; ``run`` is inexact, as in uv). A
    record made with stronger guarantees satisfies a weaker request.
    """

    __slots__ = ("all_extras", "all_groups", "checked", "exact", "extras", "groups",
                 "no_default_groups", "no_dev", "no_install_project", "python")

    def __init__(self, *, groups: Iterable[str] = (), all_groups: bool = False,
                 no_default_groups: bool = False, no_dev: bool = False,
                 extras: Iterable[str] = (), all_extras: bool = False,
                 no_install_project: bool = False, python: str | None = None,
                 checked: bool = True, exact: bool = True) -> None:
        self.groups = tuple(sorted(set(groups)))
        self.all_groups = all_groups
        self.no_default_groups = no_default_groups
        self.no_dev = no_dev
        self.extras = tuple(sorted(set(extras)))
        self.all_extras = all_extras
        self.no_install_project = no_install_project
        self.python = python
        self.checked = checked
        self.exact = exact

    def as_exact(self) -> Selection:
        """The same selection with ``exact`` set (an inexact sync that found nothing
        extraneous left an exact environment)."""
        copy = Selection(groups=self.groups, extras=self.extras, python=self.python,
                         checked=self.checked)
        for flag in ("all_groups", "no_default_groups", "no_dev", "all_extras",
                     "no_install_project"):
            setattr(copy, flag, getattr(self, flag))
        return copy

    def key(self) -> str:
        """The canonical form of what is selected (flags spelled in a fixed order)."""
        parts = [f"group={g}" for g in self.groups] + [f"extra={e}" for e in self.extras]
        for flag in ("all_groups", "no_default_groups", "no_dev", "all_extras",
                     "no_install_project"):
            if getattr(self, flag):
                parts.append(flag)
        return ",".join(parts) or "default"


def environment_dir(project_dir: str) -> str:
    """The project's environment: GHOSTENV_PROJECT_ENVIRONMENT, UV_PROJECT_ENVIRONMENT or .venv."""
    for var in ("GHOSTENV_PROJECT_ENVIRONMENT", "UV_PROJECT_ENVIRONMENT"):
        value = os.environ.get(var)
        if value:
            value = os.path.expanduser(value)
            return value if os.path.isabs(value) else os.path.join(project_dir, value)
    return os.path.join(project_dir, ".venv")


def find_project(start: str | None = None) -> str | None:
    """The nearest directory at or above ``start`` (default: cwd) holding a pyproject.toml."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        if os.path.isfile(os.path.join(here, "pyproject.toml")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _stat(path: str, *, follow: bool = True) -> str:
    """``mtime_ns:size:inode`` of ``path``, or ``-`` when it does not exist."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return "-"
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}"


def _sha256(path: str) -> str:
    from ghostenv._fast import sha256_hex  # the builtin sha256, not hashlib's import

    try:
        with open(path, "rb") as handle:
            return sha256_hex(handle.read())
    except OSError:
        return "-"


def _mtime(st: str) -> int:
    return int(st.split(":", 1)[0]) if st != "-" else 0


def _show(path: str, project_dir: str) -> str:
    """``path`` relative to the project when it is inside it (how reasons name files)."""
    rel = os.path.relpath(path, project_dir)
    return path if rel.startswith("..") else rel


class State:
    """A parsed ``.ghostenv-gate`` file."""

    __slots__ = ("checked", "count", "env", "exact", "inputs", "interpreter", "outputs",
                 "project", "python", "selection", "time")

    def __init__(self) -> None:
        self.project = ""
        self.env = ""
        self.selection = ""
        self.python = "-"
        self.checked = False
        self.exact = False
        self.count = 0
        self.time = 0
        self.interpreter: tuple[str, str] = ("", "-")
        self.inputs: dict[str, tuple[str, str]] = {}
        self.outputs: dict[str, str] = {}

    @classmethod
    def parse(cls, text: str) -> State | None:
        lines = text.split("\n")
        if lines[0] != f"{FORMAT} {STORE_SCHEMA}" or lines[-2:] != ["end", ""]:
            return None  # another format, or torn (the last line is written last)
        state = cls()
        try:
            for line in lines[1:]:
                kind, _, rest = line.partition(" ")
                if kind == "in":
                    name, st, digest = rest.split("\t")
                    state.inputs[name] = (st, digest)
                elif kind == "out":
                    path, st = rest.split("\t")
                    state.outputs[path] = st
                elif kind == "interp":
                    path, st = rest.split("\t")
                    state.interpreter = (path, st)
                elif kind == "flags":
                    words = rest.split()
                    state.checked = "checked" in words
                    state.exact = "exact" in words
                elif kind in ("count", "time"):
                    setattr(state, kind, int(rest))
                elif kind in ("project", "env", "selection", "python"):
                    setattr(state, kind, rest)
        except ValueError:
            return None
        return state

    def dump(self) -> str:
        flags = " ".join(w for w, on in (("checked", self.checked), ("exact", self.exact)) if on)
        lines = [
            f"{FORMAT} {STORE_SCHEMA}",
            f"project {self.project}",
            f"env {self.env}",
            f"selection {self.selection}",
            f"python {self.python}",
            f"flags {flags}",
            f"count {self.count}",
            f"time {self.time}",
            f"interp {self.interpreter[0]}\t{self.interpreter[1]}",
        ]
        lines += [f"in {name}\t{st}\t{digest}" for name, (st, digest) in self.inputs.items()]
        lines += [f"out {path}\t{st}" for path, st in self.outputs.items()]
        for line in lines:
            if line.count("\n") or line.count("\t") > 2:
                raise ValueError(f"cannot record a path holding a tab or newline: {line!r}")
        return "\n".join([*lines, "end"]) + "\n"


def load(env_dir: str) -> State | None:
    """The environment's record, or None (absent, unreadable, other format)."""
    try:
        with open(os.path.join(env_dir, STATE_NAME), encoding="utf-8") as handle:
            return State.parse(handle.read())
    except (OSError, UnicodeDecodeError):
        return None


def _write(env_dir: str, state: State) -> None:
    """Replace the record atomically (temp file + rename), without fsync.

    Losing the record in a crash, or finding it torn, only costs one more sync:
    an unreadable record parses as None, which is "stale". An fsync costs
    milliseconds on every sync and on every refresh of the fast path.
    """
    from ghostenv._fast import write_small

    write_small(os.path.join(env_dir, STATE_NAME), state.dump().encode("utf-8"))


def _python_mismatch(request: str, state: State) -> bool:
    """Whether ``--python REQUEST`` asks for something other than the recorded interpreter."""
    if request == state.python:
        return False
    if os.sep in request:  # a path: fresh when it is the same file as the recorded one
        return os.path.realpath(request) != state.interpreter[0]
    return True


def check(project_dir: str, env_dir: str, selection: Selection, *,
          refresh: bool = True) -> str | None:
    """None when the environment is fresh for ``selection``, else why it is not.

    ``refresh``: rewrite the record when only input stats changed (content
    identical) so the next check takes the fast path again.
    """
    project_dir = os.path.abspath(project_dir)
    env_dir = os.path.abspath(env_dir)
    env_name = _show(env_dir, project_dir)
    state = load(env_dir)
    if state is None:
        if not os.path.isdir(env_dir):
            return f"{env_name} missing"
        if os.path.isfile(os.path.join(env_dir, STATE_NAME)):
            return f"{env_name}'s sync record is from another ghostenv version, or damaged"
        return f"{env_name} was not synced by ghostenv"
    if state.project != project_dir or state.env != env_dir:
        return f"{env_name} was synced for another project directory ({state.project})"
    if state.selection != selection.key():
        return "selected groups, extras or options changed"
    if selection.checked and not state.checked:
        return "the last sync used --frozen (uv.lock not checked against pyproject.toml)"
    if selection.exact and not state.exact:
        return "the last sync was inexact (extraneous packages may remain)"
    if selection.python is not None and _python_mismatch(selection.python, state):
        return f"--python {selection.python} differs from the last sync's interpreter"
    for path, recorded in state.outputs.items():
        follow = not path.endswith(os.sep + "python")
        now = _stat(path, follow=follow)
        if now == recorded:
            continue
        name = _show(path, project_dir)
        if now == "-":
            return f"{name} missing"
        if path.endswith("site-packages"):
            return f"{name} modified outside ghostenv"
        return f"{name} changed"
    interp_path, interp_st = state.interpreter
    now = _stat(interp_path)
    if now != interp_st:
        return f"interpreter {interp_path} {'missing' if now == '-' else 'changed'}"
    return _check_inputs(project_dir, env_dir, state, refresh=refresh)


def _check_inputs(project_dir: str, env_dir: str, state: State, *, refresh: bool) -> str | None:
    """Compare the inputs by stat, then by content for those whose stat moved."""
    dirty = False
    for name in INPUTS:
        st, digest = state.inputs.get(name, ("-", "-"))
        path = os.path.join(project_dir, name)
        now = _stat(path)
        racy = st != "-" and state.time - _mtime(st) < RACY_NS
        if now == st and not racy:
            continue
        if now == "-" or st == "-":
            return f"{name} {'removed' if now == '-' else 'added'}"
        if _sha256(path) != digest:
            return f"{name} changed"
        if now != st or time.time_ns() - _mtime(now) >= RACY_NS:
            state.inputs[name] = (now, digest)
            dirty = True
    if dirty and refresh:
        state.time = time.time_ns()
        try:  # noqa: SIM105 - contextlib costs an import on the fast path
            _write(env_dir, state)
        except OSError:
            pass  # read-only environment: fresh all the same, just slower next time
    return None


def record(project_dir: str, env_dir: str, selection: Selection, *, interpreter: str,
           site_packages: Sequence[str], count: int,
           inputs: Mapping[str, tuple[str, str]] | None = None) -> None:
    """Write the record after a successful sync of ``env_dir`` for ``selection``.

    ``interpreter``: the environment's ``bin/python`` (resolved here to the real
    file). ``site_packages``: purelib and platlib. ``count``: packages installed
    (for the no-op summary line). ``inputs``: ``name -> (stat signature, sha256)``
    of :data:`INPUTS` the caller has just checked (a replayed sync compared them
    with its recipe), so they are not read and hashed again. Each pair must be
    consistent (that sha256 is the content the file had with that stat); a file
    changed since then has another stat (or is within the racy window) and is
    hashed by the next :func:`check`, which then finds the environment stale.
    """
    project_dir = os.path.abspath(project_dir)
    env_dir = os.path.abspath(env_dir)
    state = State()
    state.project = project_dir
    state.env = env_dir
    state.selection = selection.key()
    state.python = selection.python if selection.python is not None else "-"
    state.checked = selection.checked
    state.exact = selection.exact
    state.count = count
    for site in dict.fromkeys(os.path.abspath(s) for s in site_packages):
        # The first import of a top-level module creates site-packages/__pycache__,
        # which would look like an outside change; make it now.
        os.makedirs(os.path.join(site, "__pycache__"), exist_ok=True)
    real = os.path.realpath(interpreter)
    state.interpreter = (real, _stat(real))
    for name in INPUTS:
        known = inputs.get(name) if inputs is not None else None
        if known is not None:
            state.inputs[name] = known
            continue
        path = os.path.join(project_dir, name)
        st = _stat(path)
        state.inputs[name] = (st, _sha256(path) if st != "-" else "-")
    state.outputs[os.path.join(env_dir, "pyvenv.cfg")] = ""
    state.outputs[os.path.abspath(interpreter)] = ""
    for site in site_packages:
        state.outputs[os.path.abspath(site)] = ""
    for path in state.outputs:
        state.outputs[path] = _stat(path, follow=not path.endswith(os.sep + "python"))
    state.time = time.time_ns()
    _write(env_dir, state)


def forget(env_dir: str) -> None:
    """Drop the record (before a sync changes the environment: a sync killed halfway
    must not leave a record that calls the half-made environment fresh)."""
    try:  # noqa: SIM105 - contextlib costs an import on the fast path
        os.unlink(os.path.join(env_dir, STATE_NAME))
    except FileNotFoundError:
        pass
