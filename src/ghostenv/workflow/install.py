"""``pip install`` for ghostenv: resolve for an environment's interpreter, then plan and apply.

The resolver sees the index through :class:`_Overlay`, which adds what pip's
command line adds: local artifacts (wheels, sdists, project directories, also
editable) served as single-version projects with their own metadata,
constraints (``-c``) that narrow versions without adding requirements, and
``--no-deps``. What the environment already holds is preferred (its versions
are resolver preferences), so an install keeps satisfied packages as they are
and the plan marks them unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.version import Version

    from ghostenv.discover import Interpreter
    from ghostenv.materialize.venv import VenvLayout
    from ghostenv.resolve.index_source import IndexSettings, IndexSource
    from ghostenv.resolve.python import Candidate, Metadata
    from ghostenv.store import Store
    from ghostenv.workflow.plan import InstallPlan, PlanReport, Wanted

_EXTRAS = re.compile(r"^(?P<path>.*?)(?:\[(?P<extras>[^\]]*)\])?$")


@dataclass(frozen=True, slots=True)
class LocalArtifact:
    """A wheel (built if needed) standing for a local path the user named."""

    name: str
    version: str
    wheel: Path
    metadata: bytes
    extras: tuple[str, ...]
    direct_url: dict[str, Any]


@dataclass(slots=True)
class InstallOutcome:
    """What :func:`install_requirements` resolved, planned and did."""

    resolved: dict[str, str] = field(default_factory=dict)
    plan: InstallPlan | None = None
    report: PlanReport | None = None


def read_requirements_file(path: Path, *, _seen: frozenset[Path] = frozenset()
                           ) -> tuple[list[str], list[str], list[str]]:
    """``(requirements, editables, constraint files)`` of a requirements.txt.

    Understands comments, line continuations, ``-r``/``-c`` (relative to the
    file), ``-e``; index options in the file are refused with a hint, since
    silently ignoring one would install from the wrong place.
    """
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read requirements ({exc.strerror})") from exc
    if path.resolve() in _seen:
        return [], [], []
    seen = _seen | {path.resolve()}
    reqs: list[str] = []
    editables: list[str] = []
    constraints: list[str] = []
    joined = re.sub(r"\\\n", "", text)
    for number, raw in enumerate(joined.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        option, _, value = line.partition(" ")
        value = value.strip()
        if option in ("-r", "--requirement"):
            more, more_e, more_c = read_requirements_file(path.parent / value, _seen=seen)
            reqs += more
            editables += more_e
            constraints += more_c
        elif option in ("-c", "--constraint"):
            constraints.append(str(path.parent / value))
        elif option in ("-e", "--editable"):
            editables.append(_relative(value, path.parent))
        elif line.startswith("-"):
            raise UsageError(f"{path}:{number}: option {option!r} is not supported here",
                             hint="pass index options (--index-url, --find-links) on the "
                                  "command line")
        else:
            reqs.append(_relative(line, path.parent) if _is_path(line) else line)
    return reqs, editables, constraints


def _is_path(text: str) -> bool:
    """A requirement string that names a local file or directory rather than a project."""
    base = _EXTRAS.match(text)
    candidate = base.group("path") if base else text
    return (candidate.startswith((".", "/", "~")) or os.sep in candidate
            or candidate.endswith((".whl", ".tar.gz", ".zip")))


def _relative(text: str, base: Path) -> str:
    match = _EXTRAS.match(text)
    assert match is not None
    path = Path(match.group("path")).expanduser()
    if not path.is_absolute():
        path = base / path
    extras = match.group("extras")
    return str(path) + (f"[{extras}]" if extras else "")


def _check_wheel_tags(wheel: Path, interpreter: Interpreter) -> None:
    """WheelError unless the wheel's file name carries a tag the interpreter accepts."""
    from ghostenv.errors import WheelError

    stem = wheel.name[:-4].split("-")
    if len(stem) < 5:
        raise WheelError(f"{wheel.name}: not a wheel file name (name-version-py-abi-platform)")
    supported = set(interpreter.tag_strings())
    tags = {f"{i}-{a}-{p}" for i in stem[-3].split(".") for a in stem[-2].split(".")
            for p in stem[-1].split(".")}
    if not tags & supported:
        raise WheelError(f"{wheel.name} is not compatible with {interpreter.key} "
                         f"({interpreter.path}): none of {', '.join(sorted(tags))} is supported",
                         hint="use a wheel built for this Python and platform, or its sdist")


def _read_wheel_metadata(wheel: Path) -> bytes:
    from ghostenv.build.prepare import wheel_metadata
    from ghostenv.errors import WheelError

    data = wheel_metadata(wheel)
    if data is None:
        raise WheelError(f"{wheel.name}: no .dist-info/METADATA")
    return data


def local_artifact(text: str, *, editable: bool, interpreter: Interpreter,
                   settings: IndexSettings, store: Store,
                   log: Callable[[str], None]) -> LocalArtifact:
    """Turn ``path[extras]`` into a wheel: used as is, or built by the project's backend."""
    from ghostenv.wheel.metadata import parse_metadata

    match = _EXTRAS.match(text)
    assert match is not None
    path = Path(match.group("path")).expanduser().resolve()
    extras = tuple(e.strip() for e in (match.group("extras") or "").split(",") if e.strip())
    if not path.exists():
        raise UsageError(f"{path}: no such file or directory",
                         hint="pass a project directory, a wheel or an sdist")
    if path.is_file() and path.name.endswith(".whl") and not editable:
        _check_wheel_tags(path, interpreter)
        wheel = path
        direct: dict[str, Any] = {"url": path.as_uri(), "archive_info": {}}
    else:
        if editable and not path.is_dir():
            raise UsageError(f"-e {path}: an editable install needs a project directory")
        from ghostenv.build import build_wheel

        wheel = build_wheel(path, interpreter=interpreter, settings=settings, store=store,
                            editable=editable, log=log)
        direct = ({"url": path.as_uri(), "dir_info": {"editable": True}} if editable else
                  {"url": path.as_uri(), "dir_info": {}} if path.is_dir() else
                  {"url": path.as_uri(), "archive_info": {}})
    data = _read_wheel_metadata(wheel)
    core = parse_metadata(data, source=f"{wheel.name}:METADATA", lenient=True)
    return LocalArtifact(core.name, str(core.version), wheel, data, extras, direct)


def _url_artifact(text: str, *, interpreter: Interpreter, settings: IndexSettings,
                  store: Store, log: Callable[[str], None]) -> LocalArtifact:
    """``name[extras] @ URL``: a ``file:`` path, or a wheel/sdist downloaded once into the cache."""
    import hashlib
    from dataclasses import replace as dc_replace
    from urllib.parse import unquote, urlsplit

    req = _parse([text], "requirement")[0]
    url = str(req.url)
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    parts = urlsplit(url)
    if parts.scheme == "file":
        art = local_artifact(unquote(parts.path) + extras, editable=False,
                             interpreter=interpreter, settings=settings, store=store, log=log)
        return dc_replace(art, direct_url={**art.direct_url, "url": url})
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    if parts.scheme not in ("http", "https") or not filename.endswith(
            (".whl", ".tar.gz", ".zip")):
        raise UsageError(f"{text}: only file:, http: and https: URLs of wheels or sdists "
                         "are supported", hint="download it and pass the path instead")
    folder = Path(settings.cache_dir or ".") / "url-files-v1" / hashlib.sha256(
        url.encode()).hexdigest()[:32]
    target = folder / filename
    if not target.is_file():
        if settings.offline:
            from ghostenv.errors import NetworkError

            raise NetworkError(f"{url} is not cached and --offline forbids downloading it")
        import httpx

        from ghostenv.errors import NetworkError
        from ghostenv.fsutil import write_atomic

        log(f"downloading {url}")
        try:
            response = httpx.get(url, follow_redirects=True, timeout=60.0)
        except httpx.HTTPError as exc:
            raise NetworkError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise NetworkError(f"{url}: HTTP {response.status_code}")
        write_atomic(target, response.content)
    art = local_artifact(str(target) + extras, editable=False, interpreter=interpreter,
                         settings=settings, store=store, log=log)
    return dc_replace(art, direct_url={"url": url, "archive_info": {}})


class _Overlay:
    """The resolver's Source: the index, plus local artifacts, constraints and --no-deps."""

    def __init__(self, index: IndexSource, local: dict[str, LocalArtifact],
                 constraints: Sequence[Requirement], *, no_deps: bool) -> None:
        from packaging.utils import canonicalize_name

        self.index = index
        self.local = local
        self.no_deps = no_deps
        self.constraints: dict[str, list[Requirement]] = {}
        for req in constraints:
            self.constraints.setdefault(canonicalize_name(req.name), []).append(req)
        self.accepts_lookahead = bool(getattr(index, "accepts_lookahead", False))

    def versions(self, name: str) -> Sequence[Candidate]:
        from packaging.utils import canonicalize_name
        from packaging.version import Version

        from ghostenv.resolve.python import Candidate

        norm = canonicalize_name(name)
        artifact = self.local.get(norm)
        if artifact is not None:
            return [Candidate(version=Version(artifact.version), wheel_tags=("py3-none-any",))]
        found = list(self.index.versions(name))
        for req in self.constraints.get(norm, ()):
            found = [c for c in found if req.specifier.contains(c.version, prereleases=True)]
        return found

    def metadata(self, name: str, version: Version) -> Metadata:
        from packaging.utils import canonicalize_name

        from ghostenv.resolve.python import Metadata
        from ghostenv.wheel.metadata import parse_metadata

        norm = canonicalize_name(name)
        artifact = self.local.get(norm)
        if artifact is not None:
            core = parse_metadata(artifact.metadata, source=artifact.wheel.name, lenient=True)
            meta = Metadata(core.requires_dist, core.provides_extra)
        else:
            meta = self.index.metadata(name, version)
        if self.no_deps:
            return Metadata((), meta.provides_extra)
        return meta

    def prefetch(self, names: Sequence[str], **kwargs: Any) -> None:
        from packaging.utils import canonicalize_name

        remote = [n for n in names if canonicalize_name(n) not in self.local]
        self.index.prefetch(remote, **kwargs)


def _parse(texts: Sequence[str], what: str) -> list[Requirement]:
    from packaging.requirements import InvalidRequirement, Requirement

    out = []
    for text in texts:
        try:
            out.append(Requirement(text))
        except InvalidRequirement as exc:
            raise UsageError(f"invalid {what} {text!r}: {exc}",
                             hint="write it as PEP 508 (`name[extra]>=1.0; marker`) or a path "
                                  "starting with ./ or /") from None
    return out


def install_requirements(
    venv: VenvLayout,
    requirements: Sequence[str],
    *,
    interpreter: Interpreter,
    settings: IndexSettings,
    store: Store | None = None,
    editables: Sequence[str] = (),
    constraints: Sequence[str] = (),
    reinstall: bool = False,
    no_deps: bool = False,
    upgrade: bool = False,
    link_mode: Any = None,
    exact: bool = False,
    compile_bytecode: bool = False,
    log: Callable[[str], None] = lambda _t: None,
) -> InstallOutcome:
    """Resolve ``requirements`` (PEP 508 strings or local paths) for ``venv`` and install them.

    ``editables`` are project directories installed in editable mode
    (PEP 660). ``constraints`` are requirement strings that only narrow versions.
    Installed versions are preferred unless ``upgrade``; ``reinstall`` relinks
    every resolved package even when unchanged; ``exact`` removes what the
    resolution does not list.
    """
    from packaging.utils import canonicalize_name
    from packaging.version import Version

    from ghostenv.store import Store
    from ghostenv.workflow.plan import apply_plan, installed_dists, plan_install

    store = store or Store((settings.cache_dir or Path(".")) / "store")
    local: dict[str, LocalArtifact] = {}
    named: list[str] = []
    for text in requirements:
        if "@" in text and "://" in text:  # name @ URL (before the path test: URLs have /)
            art = _url_artifact(text, interpreter=interpreter, settings=settings, store=store,
                                log=log)
            local[canonicalize_name(art.name)] = art
        elif _is_path(text):
            art = local_artifact(text, editable=False, interpreter=interpreter,
                                 settings=settings, store=store, log=log)
            local[canonicalize_name(art.name)] = art
        else:
            named.append(text)
    for text in editables:
        art = local_artifact(text, editable=True, interpreter=interpreter, settings=settings,
                             store=store, log=log)
        local[canonicalize_name(art.name)] = art
    roots = _parse(named, "requirement")
    roots += _parse([f"{a.name}[{','.join(a.extras)}]=={a.version}" if a.extras
                     else f"{a.name}=={a.version}" for a in local.values()], "requirement")
    if not roots:
        raise UsageError("nothing to install", hint="pass requirements, -r FILE or -e PATH")
    have = installed_dists(venv)
    preferences: dict[str, Version] = {}
    if not upgrade:
        from packaging.version import InvalidVersion

        for name, inst in have.items():
            if inst.version:
                try:
                    preferences[name] = Version(inst.version)
                except InvalidVersion:
                    continue
    outcome = InstallOutcome()
    direct_names = {str(canonicalize_name(r.name)) for r in roots}
    if not (local or upgrade or reinstall or exact or settings.refresh):
        audited = already_satisfied(roots, _parse(constraints, "constraint"), have,
                                    interpreter.markers, no_deps=no_deps)
        if audited is not None:
            from ghostenv.workflow.plan import InstallPlan, PlanReport

            log(f"already satisfied by the environment: {', '.join(sorted(audited))}")
            outcome.resolved = audited
            outcome.plan = InstallPlan(())
            outcome.report = PlanReport(unchanged=len(audited))
            return outcome
    memo = None
    if not local and not upgrade and not settings.refresh and _fully_pinned(roots):
        memo = _memo_path(named, constraints, interpreter, settings, no_deps=no_deps)
        remembered = _load_memo(memo, direct_names)
        if remembered is not None:
            log(f"pinned requirements resolved before ({memo.name}): index not consulted")
            outcome.resolved = {w.name: w.version for w in remembered}
            wanted = remembered
            memo = None
    if not outcome.resolved:
        from ghostenv.resolve.index_source import IndexSource
        from ghostenv.resolve.python import Options, Target, resolve

        target = Target.for_interpreter(interpreter)
        with IndexSource(settings, target, log=log) as index:
            source = _Overlay(index, local, _parse(constraints, "constraint"),
                              no_deps=no_deps)
            pins = resolve(source, roots, target, Options(preferences=preferences))
            outcome.resolved = {str(k): str(v) for k, v in sorted(pins.items())}
            if memo is not None and set(outcome.resolved) <= direct_names:
                _save_memo(memo, index, pins, direct_names)
            wanted = [_wanted(str(name), version, index, local=local, have=have,
                              direct=direct_names, reinstall=reinstall,
                              interpreter=interpreter, settings=settings, store=store,
                              log=log)
                      for name, version in sorted(pins.items())]
    # The same per-environment lock `ghostenv sync` takes: an install and a sync (or two
    # installs) of one environment never interleave their removals and links.
    with store.lock_environment(venv.root):
        plan = plan_install(wanted, venv, store, exact=exact, reinstall=reinstall)
        outcome.plan = plan
        outcome.report = apply_plan(plan, venv, store, link_mode=link_mode, progress=log,
                                    compile_bytecode=compile_bytecode,
                                    offline=settings.offline, exact=exact)
    return outcome


def already_satisfied(roots: Sequence[Requirement], constraints: Sequence[Requirement],
                      have: Mapping[str, Any], markers: Mapping[str, str], *,
                      no_deps: bool = False) -> dict[str, str] | None:
    """``{name: version}`` of the installed closure when it satisfies ``roots``, else None.

    pip's "Requirement already satisfied": the requirements, and the
    requirements of what satisfies them (read from the installed METADATA,
    markers evaluated for this interpreter and the requested extras), are all
    met by installed versions -- then nothing needs the index at all. That is
    the common case of a tool that runs the same ``install`` again (a nox
    session reused). Any doubt (a missing dist, a URL requirement, unreadable
    metadata) answers None and the normal resolution decides.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    limits: dict[str, list[Requirement]] = {}
    for con in constraints:
        limits.setdefault(canonicalize_name(con.name), []).append(con)
    found: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    stack: list[tuple[Requirement, frozenset[str]]] = [(r, frozenset({""})) for r in roots]
    while stack:
        req, context = stack.pop()
        if req.marker is not None and not any(
                req.marker.evaluate({**markers, "extra": extra}) for extra in context):
            continue
        name = canonicalize_name(req.name)
        current = have.get(name)
        if req.url or current is None or not current.version:
            return None
        checks = [req, *limits.get(name, ())]
        if not all(c.specifier.contains(current.version, prereleases=True) for c in checks):
            return None
        found[name] = current.version
        extras = frozenset(canonicalize_name(e) for e in req.extras)
        if no_deps or (name, extras) in seen:
            continue
        seen.add((name, extras))
        from email.parser import BytesHeaderParser  # not paid when the env lacks a root

        try:
            with open(current.dist_info / "METADATA", "rb") as handle:
                headers = BytesHeaderParser().parse(handle)
        except OSError:
            return None
        for line in headers.get_all("Requires-Dist") or []:
            try:
                dep = Requirement(str(line))
            except InvalidRequirement:
                continue
            stack.append((dep, frozenset({"", *extras})))
    return found


def _fully_pinned(roots: Sequence[Requirement]) -> bool:
    """Every requirement pins one exact version (``name==1.2.3``, as ``uv export`` writes)."""
    for req in roots:
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator not in ("==", "===") \
                or "*" in specs[0].version:
            return False
    return True


def _memo_path(requirements: Sequence[str], constraints: Sequence[str],
               interpreter: Interpreter, settings: IndexSettings, *, no_deps: bool) -> Path:
    """Where the resolution of a fully pinned requirement set is remembered.

    When every resolved package is pinned by the request itself, the answer
    cannot change with new releases: only the index's files (URL, digest) were
    looked up, and those are remembered with it. A yanked or deleted file shows
    up as a download error (or hash mismatch), never as a wrong install.
    """
    import hashlib

    parts = [interpreter.key, str(interpreter.base_executable), settings.index_url,
             *settings.extra_index_urls, "--", *settings.find_links, "--",
             str(no_deps), *sorted(requirements), "--", *sorted(constraints)]
    key = hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
    base = settings.cache_dir if settings.cache_dir is not None else Path(".")
    return Path(base) / "install-memo-v1" / f"{key}.json"


def _load_memo(path: Path, direct: set[str]) -> list[Wanted] | None:
    import json

    from ghostenv.workflow.plan import Wanted

    try:
        doc = json.loads(path.read_text("utf-8"))
        return [Wanted(w["name"], w["version"], w["filename"], url=w["url"],
                       sha256=w["sha256"], requested=w["name"] in direct)
                for w in doc["wanted"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_memo(path: Path, index: IndexSource, pins: Mapping[Any, Version],
               direct: set[str]) -> None:
    import contextlib
    import json

    from ghostenv.fsutil import write_atomic

    rows = []
    for name, version in sorted(pins.items()):
        file = index.best_wheel(name, version)
        if file is None:
            return  # an sdist-only pin is built: not remembered
        rows.append({"name": str(name), "version": str(version), "filename": file.filename,
                     "url": file.url, "sha256": file.hashes.get("sha256")})
    with contextlib.suppress(OSError):
        write_atomic(path, json.dumps({"wanted": rows}).encode())


def _direct_url(dist_info: Path) -> dict[str, Any] | None:
    import json

    try:
        with open(dist_info / "direct_url.json", encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _wanted(name: str, version: Version, index: IndexSource, *,
            local: dict[str, LocalArtifact], have: dict[str, Any], direct: set[str],
            reinstall: bool,
            interpreter: Interpreter, settings: IndexSettings, store: Store,
            log: Callable[[str], None]) -> Wanted:
    """The wheel for one resolved pin: local, already installed, from the index, or built."""
    from ghostenv.workflow.plan import Wanted, same_version

    requested = name in direct
    artifact = local.get(name)
    if artifact is not None:
        return Wanted(artifact.name, artifact.version, artifact.wheel.name, path=artifact.wheel,
                      requested=requested, direct_url=artifact.direct_url)
    current = have.get(name)
    if (current is not None and not reinstall and current.version
            and same_version(current.version, str(version))):
        # Unchanged: the plan never fetches it, so the index files need not be looked at;
        # its own direct_url.json (an editable or URL install) is kept as it is.
        return Wanted(name, str(version), "", url="", requested=requested,
                      direct_url=_direct_url(current.dist_info))
    file = index.best_wheel(name, version)
    if file is not None:
        return Wanted(name, str(version), file.filename, url=file.url,
                      sha256=file.hashes.get("sha256"), requested=requested)
    sdist = next((f for f in index.files(name, version) if not f.is_wheel), None)
    if sdist is None:
        from ghostenv.errors import ResolutionError

        raise ResolutionError(f"{name}=={version}: no wheel for {interpreter.key} and no sdist")
    from ghostenv.build import build_wheel, fetch_sdist

    archive = fetch_sdist(sdist, store, settings)
    wheel = build_wheel(archive, interpreter=interpreter, settings=settings, store=store, log=log)
    return Wanted(name, str(version), wheel.name, path=wheel, requested=requested)
