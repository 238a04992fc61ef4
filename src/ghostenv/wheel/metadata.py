"""Core metadata (the METADATA file), parsed once into the fields ghostenv uses.

``packaging.metadata`` does the RFC 822 parsing and validation; this wrapper keeps
the raw bytes (so they can be cached or hashed as served) and the typed fields a
resolver asks for, in a frozen value that is cheap to pass around.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ghostenv.errors import WheelError

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """The fields of a distribution's METADATA that resolution needs."""

    name: str
    version: Version
    requires_python: SpecifierSet | None
    requires_dist: tuple[Requirement, ...]
    provides_extra: tuple[str, ...]
    dynamic: tuple[str, ...]
    metadata_version: str
    raw: bytes

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready view with stable ordering (what ``--json`` prints)."""
        return {
            "name": self.name,
            "version": str(self.version),
            "requires_python": str(self.requires_python) if self.requires_python else None,
            "requires_dist": [str(r) for r in self.requires_dist],
            "provides_extra": list(self.provides_extra),
            "dynamic": list(self.dynamic),
            "metadata_version": self.metadata_version,
        }


def parse_metadata(data: bytes, *, source: str = "METADATA") -> CoreMetadata:
    """Parse METADATA bytes; invalid fields raise WheelError naming ``source``."""
    from packaging.metadata import InvalidMetadata, Metadata

    try:
        meta = Metadata.from_email(data, validate=True)
    except (ExceptionGroup, InvalidMetadata, ValueError) as exc:
        detail = "; ".join(str(e) for e in getattr(exc, "exceptions", [exc]))
        raise WheelError(f"{source}: invalid core metadata: {detail}",
                         hint="the distribution's METADATA is malformed") from exc
    return CoreMetadata(
        name=meta.name,
        version=meta.version,
        requires_python=meta.requires_python,
        requires_dist=tuple(meta.requires_dist or ()),
        provides_extra=tuple(str(e) for e in (meta.provides_extra or ())),
        dynamic=tuple(meta.dynamic or ()),
        metadata_version=meta.metadata_version,
        raw=data,
    )
