"""Python packaging semantics on top of the pure solver.

:class:`PythonProvider` adapts a simple synchronous :class:`Source` (candidate
files and metadata per project) to the solver's :class:`Provider`: names are
normalized (PEP 503/685), extras become virtual packages ``a[x]`` pinned to the
same version as ``a``, markers are evaluated for one target environment, and a
version is *unavailable* (with the reason kept for the report) when its
requires-python excludes the target or no file can be installed there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import TYPE_CHECKING, Literal, Protocol

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from ghostenv.resolve.incompatibility import Incompatibility, NoVersionsCause
from ghostenv.resolve.provider import Dependencies, Unavailable
from ghostenv.resolve.report import externals
from ghostenv.resolve.version_set import VersionSet

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter

__all__ = [
    "Candidate",
    "Metadata",
    "Options",
    "PythonProvider",
    "Source",
    "Target",
    "split_extra",
]

Prerelease = Literal["if-necessary-or-explicit", "allow", "disallow"]
Strategy = Literal["highest", "lowest", "lowest-direct"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One release of a project as the index lists it."""

    version: Version
    requires_python: SpecifierSet | None = None
    wheel_tags: tuple[str, ...] = ()  # compressed tag triples of the wheels, e.g. "py3-none-any"
    has_sdist: bool = False
    yanked: bool = False


@dataclass(frozen=True, slots=True)
class Metadata:
    requires_dist: tuple[Requirement, ...] = ()
    provides_extra: tuple[str, ...] = ()


class Source(Protocol):
    def versions(self, name: str) -> Sequence[Candidate]: ...

    def metadata(self, name: str, version: Version) -> Metadata: ...


_LINUX_X86_64 = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(39, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
)


@dataclass(frozen=True)
class Target:
    """The environment being resolved for: Python version, markers, wheel tags."""

    python: Version
    markers: Mapping[str, str]
    tags: frozenset[Tag]
    #: ``tags`` most preferred first (as packaging/pip order them), when known: the
    #: wheel chosen for a version is the one with the best-ranked tag, as uv chooses
    ranked: tuple[Tag, ...] = ()

    @cached_property
    def rank(self) -> Mapping[Tag, int]:
        """Tag -> preference (lower is better); empty when the order is unknown."""
        return {tag: i for i, tag in enumerate(self.ranked)}

    @classmethod
    def linux(
        cls, python: str, platforms: Sequence[str] = _LINUX_X86_64, machine: str = "x86_64"
    ) -> Target:
        return cls._make(python, platforms, machine=machine, os_name="posix",
                         sys_platform="linux", system="Linux")

    @classmethod
    def for_interpreter(cls, interpreter: Interpreter) -> Target:
        """The target a real interpreter is: its own markers, and its tags in its own order.

        The order matters: it is what picks the best wheel of a version (as pip and uv).
        """
        ranked: list[Tag] = []
        for text in interpreter.tag_strings():  # most specific first
            ranked.extend(parse_tag(text))
        version = Version(".".join(map(str, interpreter.version)))
        return cls(version, dict(interpreter.markers), frozenset(ranked), tuple(ranked))

    @classmethod
    def for_platform(cls, python: str, platform: str) -> Target:
        """A target named as uv's ``--python-platform`` names it.

        ``linux``/``x86_64-unknown-linux-gnu`` (manylinux_2_28, as uv), ``aarch64-unknown-
        linux-gnu``, ``*-unknown-linux-musl`` (musllinux_1_2), ``x86_64-manylinux2014``,
        ``{x86_64,aarch64}-manylinux_2_N``, ``macos``/``aarch64-apple-darwin``,
        ``x86_64-apple-darwin`` (macOS 13.0 unless ``MACOSX_DEPLOYMENT_TARGET`` says
        otherwise, as uv), ``windows``/``x86_64-pc-windows-msvc``, ``i686-pc-windows-msvc``,
        ``aarch64-pc-windows-msvc``. Raises ValueError for anything else.
        """
        from ghostenv.resolve.platforms import platform_spec

        spec = platform_spec(platform)
        return cls._make(python, spec.platforms, machine=spec.machine, os_name=spec.os_name,
                         sys_platform=spec.sys_platform, system=spec.system)

    @classmethod
    def _make(cls, python: str, platforms: Sequence[str], *, machine: str, os_name: str,
              sys_platform: str, system: str) -> Target:
        version = Version(python)
        major, minor = version.release[0], version.release[1]
        full = ".".join(map(str, (*version.release, 0, 0)[:3]))
        markers = {
            "python_version": f"{major}.{minor}",
            "python_full_version": full,
            "implementation_name": "cpython",
            "implementation_version": full,
            "platform_python_implementation": "CPython",
            "os_name": os_name,
            "sys_platform": sys_platform,
            "platform_system": system,
            "platform_machine": machine,
            "platform_release": "",
            "platform_version": "",
        }
        py = (major, minor)
        tags = [*cpython_tags(py, platforms=platforms), *compatible_tags(py, platforms=platforms)]
        return cls(Version(full), markers, frozenset(tags), tuple(dict.fromkeys(tags)))


@dataclass(frozen=True)
class Options:
    prerelease: Prerelease = "if-necessary-or-explicit"
    resolution: Strategy = "highest"
    only_binary: frozenset[str] = frozenset()  # normalized names or ":all:"
    no_binary: frozenset[str] = frozenset()
    preferences: Mapping[str, Version] = field(default_factory=dict)


def split_extra(package: str) -> tuple[str, str | None]:
    """``"a[x]"`` -> ``("a", "x")``; ``"a"`` -> ``("a", None)``."""
    if package.endswith("]") and "[" in package:
        base, extra = package[:-1].split("[", 1)
        return base, extra
    return package, None


@cache
def _tags(compressed: str) -> frozenset[Tag]:
    return frozenset(parse_tag(compressed))


def requirement_set(requirement: Requirement) -> VersionSet:
    if requirement.url:
        return VersionSet.full()
    return VersionSet.parse(requirement.specifier)


class PythonProvider:
    """The solver's provider for Python projects; package keys are ``name`` or ``name[extra]``."""

    #: priority() depends only on (package, versions): the solver may reuse its answers
    priority_is_pure = True

    def __init__(
        self,
        source: Source,
        target: Target,
        options: Options | None = None,
        *,
        direct: Iterable[Requirement] = (),
    ) -> None:
        self.source = source
        self.target = target
        self.options = options or Options()
        self.direct = list(direct)
        self.direct_names = {canonicalize_name(r.name) for r in self.direct}
        self.pinned = {
            (canonicalize_name(r.name), Version(s.version))
            for r in self.direct
            for s in r.specifier
            if s.operator in ("==", "===") and "*" not in s.version
        }
        self._versions: dict[str, list[Candidate]] = {}
        self._memo: dict[tuple[str, VersionSet], tuple[Version, ...]] = {}
        self.examined = 0
        self._lookahead = _Lookahead(self)

    # -- requirements --------------------------------------------------------
    def requirements(
        self, requirements: Iterable[Requirement], extra: str | None = None
    ) -> dict[str, VersionSet]:
        """Turn requirements into solver dependencies, evaluating markers for the target."""
        env = dict(self.target.markers)
        env["extra"] = extra or ""
        result: dict[str, VersionSet] = {}
        for requirement in requirements:
            if requirement.marker is not None and not _evaluate(requirement.marker, env):
                continue
            name = canonicalize_name(requirement.name)
            versions = requirement_set(requirement)
            keys = [name, *(f"{name}[{canonicalize_name(x)}]" for x in sorted(requirement.extras))]
            for key in keys:
                result[key] = result[key] & versions if key in result else versions
        return result

    def root_requirements(self) -> dict[str, VersionSet]:
        return self.requirements(self.direct)

    # -- Provider protocol ---------------------------------------------------
    def _candidates(self, name: NormalizedName) -> list[Candidate]:
        found = self._versions.get(name)
        if found is None:
            found = sorted(self.source.versions(name), key=lambda c: c.version, reverse=True)
            self._versions[name] = found
        return found

    def candidates(self, package: str, versions: VersionSet) -> Sequence[Version]:
        key = (package, versions)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = tuple(self._ordered(package, versions))
        return found

    def _ordered(self, package: str, versions: VersionSet) -> list[Version]:
        name = canonicalize_name(split_extra(package)[0])
        policy = self.options.prerelease
        stable: list[Version] = []
        pre: list[Version] = []
        for candidate in self._candidates(name):
            version = candidate.version
            if candidate.yanked and (name, version) not in self.pinned:
                continue
            if not versions.contains(version):
                continue
            if version.is_prerelease and policy != "allow":
                if policy == "disallow":
                    continue
                pre.append(version)
            else:
                stable.append(version)
        lowest = self.options.resolution == "lowest" or (
            self.options.resolution == "lowest-direct" and name in self.direct_names
        )
        if lowest:
            stable.reverse()
            pre.reverse()
        # uv's policy: stable versions first; a prerelease only when no stable one fits.
        ordered = stable + pre
        preferred = self.options.preferences.get(name)
        if preferred is not None and preferred in ordered:
            ordered.remove(preferred)
            ordered.insert(0, preferred)
        return ordered

    def dependencies(self, package: str, version: Version) -> Dependencies:
        self.examined += 1
        base, extra = split_extra(package)
        name = canonicalize_name(base)
        candidate = next(c for c in self._candidates(name) if c.version == version)
        reason = self._unusable(name, candidate)
        if reason is not None:
            return Unavailable(reason)
        metadata = self.source.metadata(name, version)
        if extra is None:
            return self.requirements(metadata.requires_dist)
        deps = self.requirements(
            [r for r in metadata.requires_dist if r.marker is not None], extra=extra
        )
        plain = self.requirements(metadata.requires_dist)
        deps = {k: v for k, v in deps.items() if k not in plain or plain[k] != v}
        deps[name] = VersionSet.singleton(version)
        return deps

    def _unusable(self, name: NormalizedName, candidate: Candidate) -> str | None:
        spec = candidate.requires_python
        if spec is not None:
            # Like uv, ignore upper bounds: "<3.9" is nearly always a packaging mistake.
            spec = SpecifierSet(",".join(str(s) for s in spec if s.operator not in ("<", "<=")))
        if spec is not None and not spec.contains(self.target.python, prereleases=True):
            return f"requires Python{spec}, but the target is Python {self.target.python}"
        binary_ok = not ({name, ":all:"} & self.options.no_binary)
        source_ok = not ({name, ":all:"} & self.options.only_binary)
        if binary_ok and any(_tags(t) & self.target.tags for t in candidate.wheel_tags):
            return None
        if source_ok and candidate.has_sdist:
            return None
        if candidate.has_sdist and not candidate.wheel_tags:
            return "has only a source distribution, and building from source is disabled"
        if candidate.wheel_tags and not binary_ok:
            return "has only wheels, and binaries are disabled for it"
        if candidate.wheel_tags:
            if candidate.has_sdist:
                return "has no wheel for the target platform, and building from source is disabled"
            return "has no wheel for the target platform"
        return "has no files that can be installed"

    def priority(self, package: str, versions: VersionSet) -> tuple[int, ...]:
        # Extras and pins first (they cannot branch), then fewest remaining candidates.
        count = len(self.candidates(package, versions))
        return (0 if "[" in package else 1, count)

    def prefetch(self, requests: Iterable[tuple[str, VersionSet]]) -> None:
        """Pass the hint on to sources that can fetch ahead (an async index client).

        A source whose ``prefetch`` accepts a ``lookahead`` (IndexSource) also gets
        :class:`_Lookahead`, so it can fetch the likely candidate's metadata and go on
        down the graph by itself.
        """
        hook = getattr(self.source, "prefetch", None)
        if hook is None:
            return
        names = []
        for package, versions in requests:
            names.append(self._lookahead.want(package, versions)[0])
        names = sorted(set(names))
        if getattr(self.source, "accepts_lookahead", False):
            hook(names, lookahead=self._lookahead)
        else:
            hook(names)

    def likely(self, name: str, versions: VersionSet) -> Version | None:
        """The version the solver would try first for ``name`` in ``versions``, if usable."""
        by_version = {c.version: c for c in self._candidates(canonicalize_name(name))}
        for version in self.candidates(name, versions):
            candidate = by_version.get(version)
            if candidate is not None and self._unusable(canonicalize_name(name), candidate) is None:
                return version
        return None

    # -- hints -----------------------------------------------------------------
    def hints(self, failure: Incompatibility) -> list[str]:
        """Extra advice for a failed resolution: prereleases or yanked versions that would fit."""
        found: list[str] = []
        for node in externals(failure):
            if not isinstance(node.cause, NoVersionsCause):
                continue
            term = node.terms[0]
            name = canonicalize_name(split_extra(term.package)[0])
            matching = [c for c in self._candidates(name) if term.versions.contains(c.version)]
            if self.options.prerelease == "disallow" and any(
                c.version.is_prerelease for c in matching
            ):
                found.append(f"{term} has prereleases; allow them with --prerelease allow")
            yanked = [c for c in matching if c.yanked]
            if yanked:
                found.append(
                    f"{name}=={yanked[0].version} matches but was yanked; pin it with == to use it"
                )
        return found


class WantedVersions:
    """What the solver has asked for so far, per project: the narrowest range and the extras.

    The lookahead of both resolvers (this one and the universal one) keeps the
    same record for its guesses, so the narrowing rule lives here once.
    """

    def __init__(self) -> None:
        self.wanted: dict[str, VersionSet] = {}
        self.extras: dict[str, set[str]] = {}

    def want(self, package: str, versions: VersionSet) -> tuple[str, str | None]:
        """Record that ``package`` is needed within ``versions``; its normalized name."""
        base, extra = split_extra(package)
        name = canonicalize_name(base)
        before = self.wanted.get(name)
        both = versions if before is None else before & versions
        # conflicting hints: the latest one (from the solver's real state) wins
        self.wanted[name] = versions if both.is_empty else both
        if extra is not None:
            self.extras.setdefault(name, set()).add(canonicalize_name(extra))
        return name, extra


class _Lookahead(WantedVersions):
    """Guesses for the index thread: what the solver will likely pick and need next.

    Runs on the source's event-loop thread while the solver runs on its own; it
    only reads the provider's memo tables (values are immutable and equal however
    many times they are computed), so no lock is needed.
    """

    def __init__(self, provider: PythonProvider) -> None:
        super().__init__()
        self.provider = provider

    def choose(self, name: str) -> Version | None:
        return self.provider.likely(name, self.wanted.get(name, VersionSet.full()))

    def follow(self, name: str, version: Version, metadata: Metadata) -> list[str]:
        provider = self.provider
        deps = provider.requirements(metadata.requires_dist)
        for extra in sorted(self.extras.get(name, ())):
            deps.update(provider.requirements(
                [r for r in metadata.requires_dist if r.marker is not None], extra=extra))
        names = {self.want(package, versions)[0] for package, versions in deps.items()}
        names.discard(name)
        return sorted(names)


def _evaluate(marker: Marker, env: Mapping[str, str]) -> bool:
    try:
        return marker.evaluate(dict(env))
    except Exception:
        return False


def resolve(
    source: Source,
    requirements: Iterable[Requirement | str],
    target: Target,
    options: Options | None = None,
) -> dict[NormalizedName, Version]:
    """Resolve ``requirements`` for ``target``: ``{name: version}`` without extras keys.

    Raises :class:`~ghostenv.resolve.solver.SolveFailure` (a ``ResolutionError``)
    whose message is the numbered explanation and whose hint lists fixes to try.
    """
    from ghostenv.resolve.solver import SolveFailure, Solver

    parsed = [r if isinstance(r, Requirement) else Requirement(r) for r in requirements]
    provider = PythonProvider(source, target, options, direct=parsed)
    try:
        result = Solver(provider, provider.root_requirements()).solve()
    except SolveFailure as failure:
        hints = provider.hints(failure.incompatibility)
        if hints:
            failure.hint = "; ".join(hints)
        raise
    return {canonicalize_name(k): v for k, v in result.packages.items() if "[" not in k}
