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


def parse_metadata(data: bytes, *, source: str = "METADATA",
                   lenient: bool = False) -> CoreMetadata:
    """Parse METADATA bytes; invalid fields raise WheelError naming ``source``.

    ``lenient=True`` accepts what pip and uv install without complaint although
    strict validation refuses it (a ``License-File`` under Metadata-Version 2.1,
    ``Metadata-Version: 2.0``, one malformed ``Requires-Dist`` line among good
    ones): the file is validated strictly first, and only when that fails are the
    fields read one by one, skipping requirement lines that do not parse as pip
    does. Name and version must still be readable.
    """
    from packaging.metadata import InvalidMetadata, Metadata

    try:
        meta = Metadata.from_email(data, validate=True)
    except (ExceptionGroup, InvalidMetadata, ValueError) as exc:
        if lenient:
            return _parse_lenient(data, source, exc)
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


def _parse_lenient(data: bytes, source: str, strict_error: Exception) -> CoreMetadata:
    """Field-by-field reading for :func:`parse_metadata` (``lenient=True``)."""
    from packaging.metadata import parse_email
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    raw, _unparsed = parse_email(data)
    name, version = raw.get("name"), raw.get("version")
    try:
        if not name or not version:
            raise InvalidVersion("no Name or Version field")
        parsed_version = Version(version)
    except InvalidVersion as exc:
        raise WheelError(f"{source}: invalid core metadata: {exc}",
                         hint="the distribution's METADATA is malformed") from strict_error
    requires: list[Requirement] = []
    for line in raw.get("requires_dist", []):
        try:
            requires.append(Requirement(line))
        except InvalidRequirement:
            continue
    try:
        text = raw.get("requires_python")
        requires_python = SpecifierSet(text) if text else None
    except InvalidSpecifier:
        requires_python = None
    return CoreMetadata(
        name=name,
        version=parsed_version,
        requires_python=requires_python,
        requires_dist=tuple(requires),
        provides_extra=tuple(canonicalize_name(e) for e in raw.get("provides_extra", [])),
        dynamic=tuple(raw.get("dynamic", [])),
        metadata_version=raw.get("metadata_version", ""),
        raw=data,
    )


def requirement_fields(data: bytes) -> tuple[list[str], list[str]]:
    """The raw ``Requires-Dist`` and ``Provides-Extra`` values of core metadata, fast.

    What a resolver needs from METADATA, read as pip and uv read it: only the header
    block (up to the first blank line; the long description after it is never
    scanned), field names case-insensitive, folded continuation lines joined. No
    validation and no ``packaging.metadata``/``email`` import: ~100x cheaper than
    :func:`parse_metadata`, which is for when the whole file matters.
    """
    text = data.decode("utf-8", "replace")
    end = text.find("\n\n")
    crlf = text.find("\r\n\r\n")
    if crlf >= 0 and (end < 0 or crlf < end):
        end = crlf
    head = text if end < 0 else text[:end]
    requires: list[str] = []
    extras: list[str] = []
    current: list[str] | None = None
    for line in head.splitlines():
        if line[:1] in (" ", "\t"):
            if current:  # a folded continuation of the previous field
                current[-1] += " " + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            current = None
            continue
        key = key.strip().lower()
        if key == "requires-dist":
            current = requires
        elif key == "provides-extra":
            current = extras
        else:
            current = None
            continue
        current.append(value.strip())
    return requires, extras
