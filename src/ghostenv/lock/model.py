"""The uv.lock data model: frozen, slotted dataclasses for every part of the format.

The model keeps every order it read (packages, resolution markers, wheels,
provides-extras, requirement extras) and every marker/specifier/URL/timestamp
string verbatim, because uv already wrote them canonically and a round trip must
give the same bytes back (see ``/work/shared/specs/uv-lock.md`` §13). Mappings
are tuples of ``(key, value)`` pairs so that every value is hashable and the
order of the file is the order of the model.

Dependency entries always carry the full package id (name, version, source): the
reader fills in what uv leaves out when the name is unique, and the writer
leaves it out again. That makes a dependency a real reference to a package.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCE_KINDS = ("registry", "git", "url", "path", "directory", "editable", "virtual")
"""Source variants in uv's sort order (registry < git < ... < virtual)."""

MUTABLE_SOURCE_KINDS = frozenset({"url", "path", "directory", "editable", "virtual"})
"""Sources whose packages carry ``[package.metadata]`` (never registry or git)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where a package comes from: ``{ registry = "..." }``, ``{ git = "..." }``, ...

    >>> Source("registry", "https://pypi.org/simple")
    """

    kind: str
    value: str
    subdirectory: str | None = None

    def sort_key(self) -> tuple[int, str, str]:
        return (SOURCE_KINDS.index(self.kind), self.value, self.subdirectory or "")


@dataclass(frozen=True, slots=True)
class Zstd:
    """The optional ``zstd = { hash, size }`` of a wheel (pyx registries only)."""

    hash: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Artifact:
    """An sdist or wheel entry; at most one of url/path/filename is set."""

    url: str | None = None
    path: str | None = None
    filename: str | None = None
    hash: str | None = None
    size: int | None = None
    upload_time: str | None = None
    zstd: Zstd | None = None

    @property
    def name(self) -> str | None:
        """The file name, from whichever locator is present."""
        if self.filename is not None:
            return self.filename
        loc = self.url or self.path
        if loc is None:
            return None
        return loc.split("?", 1)[0].rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Dependency:
    """An edge to another ``[[package]]``, identified by name, version and source."""

    name: str
    version: str | None = None
    source: Source | None = None
    extra: tuple[str, ...] = ()
    marker: str | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """A declared requirement as uv records it in metadata and manifest tables.

    ``source_kind`` is one of git/url/path/directory/editable/virtual (or None
    for a plain index requirement, which may have ``specifier`` and ``index``).
    """

    name: str
    extras: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None
    marker: str | None = None
    specifier: str | None = None
    index: str | None = None
    source_kind: str | None = None
    source_value: str | None = None
    subdirectory: str | None = None
    editable: bool | None = None
    package: bool | None = None


@dataclass(frozen=True, slots=True)
class PackageMetadata:
    """``[package.metadata]``: what a mutable source declared, for the satisfies check."""

    requires_dist: tuple[Requirement, ...] = ()
    provides_extras: tuple[str, ...] | None = None
    requires_dev: tuple[tuple[str, tuple[Requirement, ...]], ...] | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """One ``[[package]]`` table."""

    name: str
    source: Source
    version: str | None = None
    resolution_markers: tuple[str, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    sdist: Artifact | None = None
    wheels: tuple[Artifact, ...] = ()
    optional_dependencies: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    dev_dependencies: tuple[tuple[str, tuple[Dependency, ...]], ...] = ()
    group_requires_python: tuple[tuple[str, str], ...] = ()
    metadata: PackageMetadata | None = None

    @property
    def id(self) -> tuple[str, str | None, Source]:
        return (self.name, self.version, self.source)


@dataclass(frozen=True, slots=True)
class ConflictItem:
    """One member of a conflict set: a package, optionally with an extra or a group."""

    package: str
    extra: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ExcludeNewerSpan:
    """A relative exclude-newer for one package: ``{ timestamp = ..., span = ... }``."""

    timestamp: str
    span: str


@dataclass(frozen=True, slots=True)
class Options:
    """``[options]``: resolver settings that differ from uv's defaults."""

    resolution_mode: str | None = None
    prerelease_mode: str | None = None
    fork_strategy: str | None = None
    exclude_newer: str | None = None
    exclude_newer_span: str | None = None
    exclude_newer_package: tuple[tuple[str, bool | str | ExcludeNewerSpan], ...] = ()
    prerelease_package: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DependencyMetadata:
    """One ``[[manifest.dependency-metadata]]`` entry (static metadata override)."""

    name: str
    version: str | None = None
    requires_dist: tuple[str, ...] | None = None
    requires_python: str | None = None
    provides_extras: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """``[manifest]``: the lock-wide inputs uv compares in ``--locked``/``--check``."""

    members: tuple[str, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    constraints: tuple[Requirement, ...] = ()
    overrides: tuple[Requirement, ...] = ()
    excludes: tuple[str, ...] = ()
    build_constraints: tuple[Requirement, ...] = ()
    dependency_groups: tuple[tuple[str, tuple[Requirement, ...]], ...] | None = None
    group_requires_python: tuple[tuple[str, str], ...] = ()
    dependency_metadata: tuple[DependencyMetadata, ...] = ()
    header: bool = False
    """Write a bare ``[manifest]`` header even without direct keys (uv 0.12.5 did)."""

    def has_direct_keys(self) -> bool:
        return bool(
            self.members
            or self.requirements
            or self.constraints
            or self.overrides
            or self.excludes
            or self.build_constraints
        )


@dataclass(frozen=True, slots=True)
class Lock:
    """A whole ``uv.lock``.

    >>> lock = Lock(requires_python=">=3.9", packages=())
    >>> lock.package("idna")  # doctest: +SKIP
    """

    requires_python: str
    version: int = 1
    revision: int = 5
    resolution_markers: tuple[str, ...] = ()
    supported_markers: tuple[str, ...] = ()
    required_markers: tuple[str, ...] = ()
    conflicts: tuple[tuple[ConflictItem, ...], ...] = ()
    options: Options | None = None
    manifest: Manifest | None = None
    packages: tuple[Package, ...] = field(default=())

    def by_name(self, name: str) -> tuple[Package, ...]:
        """Every package locked under ``name`` (more than one when the resolution forked)."""
        return tuple(p for p in self.packages if p.name == name)
