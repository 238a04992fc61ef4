"""The install engine shared by ``install``, ``sync`` and ephemeral environments.

Input: the wheels an environment should hold (:class:`Wanted`: name, version,
where the wheel is, its sha256 if known, whether the user asked for it) and
the environment's layout. :func:`plan_install` decides everything before the
environment is touched -- each package is unchanged, linked from the store,
downloaded then linked, reinstalled (another version, or another wheel of the
same version), or removed as extraneous (exact mode only). :func:`apply_plan`
then does it: downloads in parallel straight into the store, uninstalls by
RECORD, and installs every wheel at once (:func:`ghostenv.materialize.install.install_many`:
all directories, then all files spread evenly over a few threads -- linking is
syscalls, which release the GIL -- then each wheel's RECORD).

The warm path -- every wheel already in the store -- imports neither httpx nor
asyncio nor packaging unless a version string needs real comparison.
"""

from __future__ import annotations

import os
import time

from ghostenv.store.record import record, replace

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from pathlib import Path
    from typing import Any

    from ghostenv.materialize.link import Linker
    from ghostenv.materialize.venv import VenvLayout
    from ghostenv.store import Store
    from ghostenv.store.manifest import LinkIndex, WheelManifest

# enum costs ~2 ms to import, a twentieth of a fresh-environment sync: a look-alike
# (type checkers see the real StrEnum)
if TYPE_CHECKING:
    from enum import StrEnum
else:
    from ghostenv._strenum import StrEnum


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: Threads placing files at once: one per usable core (measured on 2 cores: 2 threads
#: beat 3 and 4, whose extra GIL hand-offs cost more than the overlap gains).
WORKERS = max(1, min(8, _cpus()))


def normalize(name: str) -> str:
    """PEP 503 normalized project name (string operations: no ``re`` on the warm path)."""
    out = name.lower().replace("_", "-").replace(".", "-")
    while "--" in out:
        out = out.replace("--", "-")
    return out


@record()
class Wanted:
    """One distribution the environment should hold, as a wheel.

    ``url`` is an http(s) or ``file:`` URL, or ``path`` a local wheel (one of
    the two). ``sha256`` is the wheel's digest when the index or lock gave it:
    it is the store key, so a wheel in the store is found without a download.
    ``direct_url`` is written as ``direct_url.json`` (PEP 610) for URL, path and
    editable installs.
    """

    name: str
    version: str
    filename: str
    url: str | None = None
    path: Path | None = None
    sha256: str | None = None
    requested: bool = False
    direct_url: Mapping[str, Any] | None = None

    @property
    def location(self) -> str:
        """Where the wheel comes from (URL or path), for fetching and messages."""
        if self.url is not None:
            return self.url
        if self.path is not None:
            return os.fspath(self.path)
        raise ValueError(f"{self.name}: a Wanted needs a url or a path")


@record()
class Installed:
    """A distribution found in the environment; ``version`` is "" when RECORD is missing."""

    name: str
    version: str
    dist_info: Path


class Action(StrEnum):
    """What the plan does with one package."""

    UNCHANGED = "unchanged"
    LINK = "link"          # not installed; wheel already in the store
    DOWNLOAD = "download"  # not installed; wheel must be fetched first
    REINSTALL = "reinstall"
    REMOVE = "remove"


@record()
class Step:
    """One decision: ``manifest`` (the wheel's compiled index) is set when it is in the store."""

    action: Action
    name: str
    wanted: Wanted | None = None
    installed: Installed | None = None
    manifest: LinkIndex | None = None
    reason: str = ""


@record()
class InstallPlan:
    """Every decision, made before the environment is touched."""

    steps: tuple[Step, ...]

    def of(self, *actions: Action) -> list[Step]:
        """The steps with one of ``actions``."""
        return [s for s in self.steps if s.action in actions]

    @property
    def changes(self) -> bool:
        """Whether applying the plan would change anything."""
        return any(s.action is not Action.UNCHANGED for s in self.steps)

    def describe(self) -> list[str]:
        """One line per change (`+ name==1.0`, `- name==0.9`, `~ name 0.9 -> 1.0`)."""
        lines = []
        for step in self.steps:
            new = step.wanted.version if step.wanted is not None else ""
            old = step.installed.version if step.installed is not None else ""
            if step.action in (Action.LINK, Action.DOWNLOAD):
                lines.append(f"+ {step.name}=={new}")
            elif step.action is Action.REINSTALL:
                lines.append(f"~ {step.name} {old or '?'} -> {new} ({step.reason})")
            elif step.action is Action.REMOVE:
                lines.append(f"- {step.name}=={old}")
        return lines


class PlanReport:
    """What :func:`apply_plan` did, for summary lines and tests.

    ``install_ms``: time spent changing the environment (removing and linking),
    downloads excluded.
    """

    __slots__ = ("download_ms", "downloaded", "fallbacks", "install_ms", "installed", "modes",
                 "reinstalled", "removed", "unchanged")

    def __init__(self, *, unchanged: int = 0) -> None:
        self.installed: list[str] = []
        self.removed: list[str] = []
        self.reinstalled: list[str] = []
        self.downloaded = 0
        self.unchanged = unchanged
        self.install_ms = 0.0
        self.download_ms = 0.0
        self.modes: dict[str, int] = {}
        self.fallbacks: list[str] = []

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"PlanReport({fields})"


def installed_dists(layout: VenvLayout) -> dict[str, Installed]:
    """``normalized name -> Installed`` for every ``.dist-info`` in the environment."""
    found: dict[str, Installed] = {}
    for site in dict.fromkeys((layout.purelib_str, layout.platlib_str)):
        try:
            entries = os.scandir(site)
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                if not entry.name.endswith(".dist-info"):
                    continue
                name, _, version = entry.name[: -len(".dist-info")].partition("-")
                if not os.path.isfile(os.path.join(entry.path, "RECORD")):
                    version = ""  # RECORD is written last: an interrupted install, redo it
                from pathlib import Path  # (only for an environment that has something)

                found[normalize(name)] = Installed(name, version, Path(entry.path))
    return found


def same_version(a: str, b: str) -> bool:
    """Versions equal by PEP 440 (``1.0`` == ``1.0.0``); string equality needs no parsing."""
    if a == b:
        return True
    if not a or not b:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return False


def _direct_url_differs(installed: Installed, wanted: Wanted) -> bool:
    """A URL/path install replaced by a registry one (or another URL), or the other way."""
    import json

    path = installed.dist_info / "direct_url.json"
    try:
        with open(path, encoding="utf-8") as handle:
            have: Any = json.load(handle)
    except FileNotFoundError:
        have = None
    except (OSError, ValueError):
        return True
    if wanted.direct_url is None:
        return have is not None
    return bool(have != json.loads(json.dumps(dict(wanted.direct_url))))


def _stored(store: Store, item: Wanted) -> LinkIndex | None:
    return store.get_link_index(item.sha256) if item.sha256 else None


def plan_install(
    wanted: Sequence[Wanted],
    layout: VenvLayout,
    store: Store,
    *,
    exact: bool,
    keep: Collection[str] = (),
    reinstall: bool | Collection[str] = False,
) -> InstallPlan:
    """Decide, for every wanted and every installed distribution, what to do.

    ``exact`` removes installed distributions that are not wanted, except the
    names in ``keep``. ``reinstall`` (True, or a collection of names) forces
    a reinstall even when the same version is there. A local wheel without a
    digest is hashed here (read only) so that its store entry can be found.
    """
    from ghostenv.store.cas import file_sha256

    have = installed_dists(layout)
    recorded = store.installed_wheels(layout.root_str) if have else {}
    forced = {normalize(n) for n in reinstall} if not isinstance(reinstall, bool) else set()
    keep_names = {normalize(k) for k in keep}
    steps: list[Step] = []
    seen: set[str] = set()
    for given in wanted:
        name = normalize(given.name)
        if name in seen:
            continue
        seen.add(name)
        item = given
        if item.sha256 is None and item.path is not None:
            item = replace(item, sha256=file_sha256(item.path))
        current = have.get(name)
        if current is None:
            manifest = _stored(store, item)
            steps.append(Step(Action.LINK if manifest else Action.DOWNLOAD, name, item,
                              None, manifest))
            continue
        reason = ""
        if reinstall is True or name in forced:
            reason = "reinstall requested"
        elif not current.version:
            reason = "interrupted install"
        elif not same_version(current.version, item.version):
            reason = "version changed"
        elif item.sha256 and recorded.get(name, item.sha256) != item.sha256:
            reason = "wheel changed"
        elif _direct_url_differs(current, item):
            reason = "source changed"
        if reason:
            steps.append(Step(Action.REINSTALL, name, item, current, _stored(store, item),
                              reason))
        else:  # its manifest is not read: a no-op plan reads no JSON
            steps.append(Step(Action.UNCHANGED, name, item, current))
    if exact:
        for name, current in sorted(have.items()):
            if name not in seen and name not in keep_names:
                steps.append(Step(Action.REMOVE, name, None, current))
    return InstallPlan(tuple(steps))


def make_linker(store: Store, link_mode: Any = None,
                on_fallback: Callable[[str], None] | None = None) -> Linker:
    """A linker whose filesystem probes are remembered in the store between runs."""
    from ghostenv.materialize.link import Linker

    # a string may name a built-in mode or a plugin's: the Linker sorts that out
    return Linker(link_mode, on_fallback,
                  memo=os.path.join(store.root_dir, "linkmodes-v1.json"))


def apply_plan(
    plan: InstallPlan,
    layout: VenvLayout,
    store: Store,
    *,
    link_mode: Any = None,
    linker: Linker | None = None,
    progress: Callable[[str], None] = lambda _t: None,
    compile_bytecode: bool = False,
    offline: bool = False,
    exact: bool = False,
) -> PlanReport:
    """Carry the plan out: fetch what the store lacks, remove, then link in parallel.

    ``exact`` replaces the store's record of the environment's wheels (for
    ``cache prune``) instead of adding to it.
    """
    report = PlanReport(unchanged=len(plan.of(Action.UNCHANGED)))
    todo = plan.of(Action.LINK, Action.DOWNLOAD, Action.REINSTALL)
    manifests: dict[str, LinkIndex] = {s.name: s.manifest for s in todo if s.manifest}
    missing = [s for s in todo if s.manifest is None]
    if missing:
        fetch_start = time.perf_counter()
        manifests.update(_fetch([s.wanted for s in missing if s.wanted], store, progress,
                                offline))
        report.downloaded = sum(1 for s in missing if s.wanted and
                                not _is_local(s.wanted))
        report.download_ms = (time.perf_counter() - fetch_start) * 1000
    if not todo and not plan.of(Action.REMOVE):
        return report

    start = time.perf_counter()
    for step in plan.of(Action.REMOVE, Action.REINSTALL):
        assert step.installed is not None
        if step.installed.version:
            from ghostenv.materialize.uninstall import uninstall

            uninstall(step.installed.dist_info, env_root=layout.root)
        elif step.action is Action.REMOVE:  # no RECORD to go by: at least forget the dist
            import shutil

            shutil.rmtree(step.installed.dist_info, ignore_errors=True)
        # (a reinstall without RECORD overwrites the leftovers instead)
        if step.action is Action.REMOVE:
            report.removed.append(f"{step.name}=={step.installed.version}")

    linker = linker or make_linker(store, link_mode)
    failed = _link_all(todo, manifests, layout, store, linker=linker, report=report)
    if failed:  # objects vanished from the store (pruned, verified away): unpack again
        retry = [s.wanted for s, _ in failed if s.wanted is not None]
        fetch_start = time.perf_counter()
        for source in retry:
            if source.sha256:
                store.forget_wheel(source.sha256)
        manifests.update(_fetch(retry, store, progress, offline))
        report.download_ms += (time.perf_counter() - fetch_start) * 1000
        still = _link_all([s for s, _ in failed], manifests, layout, store, linker=linker,
                          report=report)
        if still:
            raise still[0][1]
    if compile_bytecode:
        from ghostenv.materialize.install import compile_bytecode as compile_all

        compile_all(layout.python, _python_files(todo, manifests, layout))

    installed = {s.name: manifests[s.name].wheel_sha256 for s in todo}
    used = [m.wheel_sha256 for m in manifests.values()]
    if exact:
        unchanged = {s.name: s.wanted.sha256 for s in plan.of(Action.UNCHANGED)
                     if s.wanted is not None and s.wanted.sha256}
        used += list(unchanged.values())
        installed = {**unchanged, **installed}
    store.track(layout.root_str, used, replace=exact, installed=installed)
    report.fallbacks = list(linker.fallbacks)
    report.install_ms = (time.perf_counter() - start) * 1000 - (
        report.download_ms if failed else 0.0)
    return report


def _is_local(wanted: Wanted) -> bool:
    return wanted.path is not None or (wanted.url or "").startswith("file:")


def _fetch(wanted: Sequence[Wanted], store: Store, progress: Callable[[str], None],
           offline: bool) -> dict[str, LinkIndex]:
    from ghostenv.store.fetch import WheelSource, fetch_wheels
    from ghostenv.store.manifest import LinkIndex

    sources = [WheelSource(normalize(w.name), w.filename, w.location, w.sha256) for w in wanted]
    fetched: dict[str, WheelManifest] = fetch_wheels(sources, store, progress=progress,
                                                     offline=offline)
    return {name: LinkIndex.compile(manifest) for name, manifest in fetched.items()}


def _link_all(steps: Sequence[Step], manifests: Mapping[str, LinkIndex],
              layout: VenvLayout, store: Store, *, linker: Linker,
              report: PlanReport) -> list[tuple[Step, Exception]]:
    """Install every step's wheel in one go; returns steps whose objects were missing."""
    from ghostenv.materialize.install import Job, install_many

    scheme = {"purelib": layout.purelib_str, "platlib": layout.platlib_str,
              "scripts": layout.scripts_str, "data": layout.root_str}
    include = f"{layout.root_str}/include/site/python{layout.interpreter.python_version}"
    jobs = []
    for step in steps:
        index = manifests[step.name]
        assert step.wanted is not None
        jobs.append(Job(index, {**scheme, "headers": f"{include}/{index.name}"},
                        requested=step.wanted.requested, direct_url=step.wanted.direct_url))
    results = install_many(jobs, store, interpreter=layout.python_str, linker=linker,
                           workers=WORKERS)
    failed: list[tuple[Step, Exception]] = []
    for step, result in zip(steps, results, strict=True):
        if isinstance(result, Exception):
            failed.append((step, result))
            continue
        for mode, count in result.modes.items():
            report.modes[mode] = report.modes.get(mode, 0) + count
        assert step.wanted is not None
        line = f"{step.wanted.name}=={step.wanted.version}"
        if step.action is Action.REINSTALL:
            report.reinstalled.append(line)
        report.installed.append(line)
    report.installed.sort()
    return failed


def _python_files(steps: Sequence[Step], manifests: Mapping[str, LinkIndex],
                  layout: VenvLayout) -> list[Path]:
    out = []
    for step in steps:
        index = manifests[step.name]
        root = layout.purelib if index.root_is_purelib else layout.platlib
        out += [root / path for _, path in (*index.plain, *index.executables)
                if path.endswith(".py")]
    return out


def install_wanted(
    wanted: Sequence[Wanted],
    layout: VenvLayout,
    store: Store,
    *,
    exact: bool = False,
    keep: Collection[str] = (),
    reinstall: bool | Collection[str] = False,
    link_mode: Any = None,
    progress: Callable[[str], None] = lambda _t: None,
    compile_bytecode: bool = False,
    offline: bool = False,
) -> tuple[InstallPlan, PlanReport]:
    """Plan and apply in one call (what most callers want)."""
    plan = plan_install(wanted, layout, store, exact=exact, keep=keep, reinstall=reinstall)
    report = apply_plan(plan, layout, store, link_mode=link_mode, progress=progress,
                        compile_bytecode=compile_bytecode, offline=offline, exact=exact)
    return plan, report
