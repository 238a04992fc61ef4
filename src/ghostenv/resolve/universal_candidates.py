"""Candidate versions for universal resolution: lazy lists, Python floors, wheel tags, lookahead.

Split out of ``universal_provider.py``. The helpers here decide which releases a
fork may use (requires-python floors with their strictness, wheel python tags
against the project's requires-python) and keep the work proportional to what
the solver reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag
from packaging.version import Version

from ghostenv.resolve.markers import Bound
from ghostenv.resolve.python import WantedVersions, requirement_set
from ghostenv.resolve.universal_marker_ranges import _start_key, specifier_ranges
from ghostenv.resolve.version_set import VersionSet

if TYPE_CHECKING:
    from ghostenv.resolve.universal_provider import Shared


class _Lazy(Sequence[Version]):
    """A sequence filled from iterators only as far as it is read."""

    __slots__ = ("_items", "_sources")

    def __init__(self, *sources: Iterable[Version]) -> None:
        self._items: list[Version] = []
        self._sources = [iter(source) for source in sources]

    def _fill(self, count: int | None) -> None:
        while self._sources and (count is None or len(self._items) < count):
            try:
                self._items.append(next(self._sources[0]))
            except StopIteration:
                self._sources.pop(0)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and index >= 0:
            self._fill(index + 1)
        else:
            self._fill(None)
        return self._items[index]

    def __len__(self) -> int:
        self._fill(None)
        return len(self._items)

    def __bool__(self) -> bool:
        self._fill(1)
        return bool(self._items)

    def __iter__(self) -> Iterator[Version]:
        position = 0
        while True:
            self._fill(position + 1)
            if position >= len(self._items):
                return
            yield self._items[position]
            position += 1


class Lookahead(WantedVersions):
    """Guesses for the index thread (IndexSource's speculation): the likely version of a
    project and the projects it will need. Runs on the index thread, so it touches no
    marker diagrams (their tables are not thread-safe) and writes nothing shared."""

    def __init__(self, shared: Shared) -> None:
        super().__init__()
        self.shared = shared

    def choose(self, name: str) -> Version | None:
        wanted = self.wanted.get(name, VersionSet.full())
        best = None
        for candidate in self.shared.source.versions(name):
            version = candidate.version
            if candidate.yanked or version.is_prerelease or not wanted.contains(version):
                continue
            if best is None or version > best:
                best = version
        return best

    def follow(self, name: str, version: Version, metadata: Any) -> list[str]:
        extras = self.extras.get(name, set())
        names = set()
        for requirement in metadata.requires_dist:
            text = str(requirement.marker) if requirement.marker is not None else ""
            if "extra" in text and not any(f'"{x}"' in text or f"'{x}'" in text for x in extras):
                continue
            wanted = requirement_set(requirement)
            names.add(self.want(requirement.name, wanted)[0])
            for extra in requirement.extras:  # so their extra-only dependencies are followed
                self.want(f"{requirement.name}[{extra}]", wanted)
        names.discard(name)
        return sorted(names)


def _above(a: Bound, b: Bound) -> bool:
    """Lower bound ``a`` is stricter than lower bound ``b`` (None = unbounded)."""
    if a is None:
        return False
    if b is None or a[0] > b[0]:
        return True
    return bool(a[0] == b[0] and not a[1] and b[1])


def _python_tag_ok(tag: str, lower: Version | None, upper: Version | None) -> bool:
    """Could a wheel with this python tag run somewhere in [lower, upper)?"""
    for parsed in parse_tag(tag):
        interp, abi = parsed.interpreter, parsed.abi
        if interp.startswith("py"):
            digits = interp[2:]
            if digits in ("3", "") or (digits.startswith("3") and len(digits) == 1):
                return True
            if digits.startswith("2") and len(digits) == 1:
                continue
            if digits.startswith("3"):
                version = Version(f"3.{digits[1:]}")
                if upper is None or version < upper:
                    return True
            continue
        if interp[:2] in ("cp", "pp", "gp", "ip") and interp[2:3] == "3" and interp[3:].isdigit():
            version = Version(f"3.{interp[3:]}")
            floor_minor = Version(f"{lower.major}.{lower.minor}") if lower is not None else None
            if abi == "abi3" or (interp[:2] != "cp" and abi == "none"):
                if upper is None or version < upper:
                    return True
                continue
            if (floor_minor is None or version >= floor_minor) and (
                upper is None or version < upper
            ):
                return True
    return False


def _spec_floor(spec: SpecifierSet) -> Bound:
    """requires-python's lowest admitted Python, as a bound: uv reads the whole range, so
    ``>=3.9,!=3.9.0,!=3.9.1`` starts strictly above 3.9 (its forks say ``> '3.9'``)."""
    ranges = specifier_ranges(spec, lower_only=True)
    if not ranges:
        return None
    return min((r[0] for r in ranges), key=_start_key)


_FLOORS: dict[SpecifierSet, Bound] = {}


def _floor_of(spec: SpecifierSet) -> Bound:
    if spec not in _FLOORS:
        _FLOORS[spec] = _spec_floor(spec)
    return _FLOORS[spec]
