"""What the solver needs to know about packages, and nothing about where it comes from.

The solver never performs I/O: a provider answers candidate and dependency
questions, and may use :meth:`Provider.prefetch` to start fetching metadata for
packages the solver is about to look at (so an async index client can pipeline).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from packaging.version import Version

from ghostenv.resolve.version_set import VersionSet

__all__ = ["Dependencies", "InMemoryProvider", "Provider", "Unavailable"]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A version that exists but cannot be used; ``reason`` ends up in the report."""

    reason: str


Dependencies = Mapping[str, VersionSet] | Unavailable


class Provider(Protocol):
    def candidates(self, package: str, versions: VersionSet) -> Sequence[Version]:
        """Versions of ``package`` inside ``versions``, most preferred first."""
        ...

    def dependencies(self, package: str, version: Version) -> Dependencies:
        """Requirements of one version, or why it cannot be used."""
        ...

    def priority(self, package: str, versions: VersionSet) -> tuple[int, ...]:
        """Lower is decided first. Default heuristic: fewest remaining candidates."""
        ...

    def prefetch(self, requests: Iterable[tuple[str, VersionSet]]) -> None:
        """A hint that these packages will be asked about soon; may do nothing."""
        ...


@dataclass
class InMemoryProvider:
    """A provider over a dict registry ``{name: {version: {dep: specifier}}}``.

    ``preferences`` (e.g. from an existing lock) are offered first when they
    still fit, so re-resolving changes as little as possible. ``lowest`` flips
    the order. ``examined`` counts dependency look-ups (candidates examined).
    """

    #: priority() depends only on (package, versions): the solver may reuse its answers
    priority_is_pure = True

    registry: Mapping[str, Mapping[Version, Mapping[str, VersionSet] | Unavailable]]
    preferences: Mapping[str, Version] = field(default_factory=dict)
    lowest: bool = False
    examined: int = 0
    # (package, id(versions)) -> (versions, answer): by identity, the value keeps the set
    # alive (a VersionSet hashes in Python; the solver asks with the same objects)
    _memo: dict[tuple[str, int], tuple[VersionSet, Sequence[Version]]] = field(default_factory=dict)
    _sorted: dict[str, tuple[list[Version], list[Any]]] = field(default_factory=dict)

    def candidates(self, package: str, versions: VersionSet) -> Sequence[Version]:
        key = (package, id(versions))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = (versions, tuple(self._candidates(package, versions)))
        return hit[1]

    def _candidates(self, package: str, versions: VersionSet) -> list[Version]:
        known = self._sorted.get(package)
        if known is None:
            ordered = _ascending(list(self.registry.get(package, {})))
            known = self._sorted[package] = (ordered, VersionSet.probes(ordered))
        found = versions.filter_sorted(known[0], known[1])
        if not self.lowest:
            found.reverse()
        preferred = self.preferences.get(package)
        if preferred is not None and preferred in found:
            found.remove(preferred)
            found.insert(0, preferred)
        return found

    def dependencies(self, package: str, version: Version) -> Dependencies:
        self.examined += 1
        return self.registry[package][version]

    def priority(self, package: str, versions: VersionSet) -> tuple[int, ...]:
        return (len(self.candidates(package, versions)),)

    def prefetch(self, requests: Iterable[tuple[str, VersionSet]]) -> None:
        return None


def _ascending(versions: list[Version]) -> list[Version]:
    """``sorted(versions)`` comparing packaging's keys as plain tuples."""
    keyed = sorted([(v._key_cache or v._key, at) for at, v in enumerate(versions)])
    return [versions[at] for _, at in keyed]
