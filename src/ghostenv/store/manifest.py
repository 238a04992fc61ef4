"""The per-wheel manifest: everything needed to install a wheel without opening its zip.

A manifest is keyed by the wheel's own sha256 and stored as JSON. It records,
for each archive member, the path, the sha256 of its bytes (its name in the
object store), its size and whether it is executable, plus the parsed pieces
an installer needs (dist-info directory, WHEEL tags, entry points). Keeping
these parsed once is why a second materialization does no zip work at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

FORMAT = 1


class ManifestFile(NamedTuple):
    """One archive member: its path in the wheel, the object it is stored as, and its mode.

    A named tuple rather than a frozen dataclass: a manifest of a big wheel
    holds thousands, and a tuple is built several times faster, which shows in
    a warm install (every manifest is read back on each materialization).
    """

    path: str
    sha256: str
    size: int
    executable: bool


@dataclass(frozen=True, slots=True)
class WheelManifest:
    """A stored wheel, ready to be materialized."""

    filename: str
    wheel_sha256: str
    name: str
    version: str
    dist_info: str
    tags: tuple[str, ...]
    root_is_purelib: bool
    files: tuple[ManifestFile, ...]
    console_scripts: tuple[tuple[str, str], ...]
    gui_scripts: tuple[tuple[str, str], ...]

    @property
    def data_dir(self) -> str:
        """The ``<name>-<version>.data`` directory that holds non-root scheme parts."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    def to_json(self) -> str:
        """Serialise (stable key order so the bytes are reproducible)."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "filename": self.filename,
            "wheel_sha256": self.wheel_sha256,
            "name": self.name,
            "version": self.version,
            "dist_info": self.dist_info,
            "tags": list(self.tags),
            "root_is_purelib": self.root_is_purelib,
            "files": [[f.path, f.sha256, f.size, f.executable] for f in self.files],
            "console_scripts": [list(e) for e in self.console_scripts],
            "gui_scripts": [list(e) for e in self.gui_scripts],
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WheelManifest:
        """Parse what :meth:`to_json` wrote; raises ValueError on another format."""
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"manifest format {doc.get('format')!r} is not {FORMAT}")
        return cls(
            filename=doc["filename"],
            wheel_sha256=doc["wheel_sha256"],
            name=doc["name"],
            version=doc["version"],
            dist_info=doc["dist_info"],
            tags=tuple(doc["tags"]),
            root_is_purelib=bool(doc["root_is_purelib"]),
            files=tuple(map(ManifestFile._make, doc["files"])),
            console_scripts=tuple((a, b) for a, b in doc["console_scripts"]),
            gui_scripts=tuple((a, b) for a, b in doc["gui_scripts"]),
        )
