"""The in-memory registry the universal resolver's tests resolve against.

One class for the example-based tests (``test_universal``) and the property
tests (``test_universal_properties``), so both exercise the same Source; and the
uv comparisons' helpers (``test_universal_vs_uv``, ``test_universal_workloads``),
so both compare edges with uv.lock entries the same way.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.python import Candidate, Metadata
from ghostenv.resolve.universal import Edge

#: Markers every random registry draws from (each test adds its own): none, the
#: platform both ways and the Python split both ways, so forks and their
#: complements are always possible.
COMMON_MARKERS = [
    "",
    "sys_platform == 'linux'",
    "sys_platform != 'linux'",
    "sys_platform == 'win32'",
    "python_version < '3.11'",
    "python_version >= '3.11'",
]


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


def uv_binary() -> str | None:
    """The uv the comparisons run (PATH, else next to this Python); None when absent."""
    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    return found if Path(found).exists() else None


def edge_entries(edges: tuple[Edge, ...]) -> list[tuple[Any, ...]]:
    """Edges as uv writes dependency entries: same (name, version, marker) share one entry."""
    merged: dict[tuple[Any, ...], set[str]] = {}
    for e in edges:
        extras = merged.setdefault((e.name, str(e.version) if e.version else None, e.marker), set())
        if e.extra:
            extras.add(e.extra)
    return sorted((n, v, tuple(sorted(x)), m) for (n, v, m), x in merged.items())


def written_entries(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """uv.lock dependency tables in the form :func:`edge_entries` gives, to compare."""
    return sorted(
        (d["name"], d.get("version"), tuple(d.get("extra", [])), d.get("marker")) for d in items
    )
