"""The in-memory registry the universal resolver's tests resolve against.

One class for the example-based tests (``test_universal``) and the property
tests (``test_universal_properties``), so both exercise the same Source.
"""

from __future__ import annotations

from collections.abc import Sequence

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.python import Candidate, Metadata


class Registry:
    """``{name: {version: (requires_python, [requirements])}}``, pure wheels."""

    def __init__(self, packages: dict[str, dict[str, tuple[str, list[str]]]]) -> None:
        self.packages = packages

    def versions(self, name: str) -> Sequence[Candidate]:
        return [
            Candidate(Version(v), SpecifierSet(rp), ("py3-none-any",), True)
            for v, (rp, _) in self.packages.get(name, {}).items()
        ]

    def metadata(self, name: str, version: Version) -> Metadata:
        for v, (_, requires) in self.packages[name].items():
            if Version(v) == version:
                return Metadata(tuple(Requirement(r) for r in requires))
        raise KeyError((name, version))
