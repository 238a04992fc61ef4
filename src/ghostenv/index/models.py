"""What an index says about a project: its files, independent of the dialect (HTML or JSON)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalized project name: lowercase, runs of ``-_.`` become one ``-``."""
    return _NORMALIZE.sub("-", name).lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class DistFile:
    """One downloadable file of a project, as the index advertises it.

    ``core_metadata`` is False when the index advertises no PEP 658 metadata, True when it
    does without hashes, or the hash dict of the ``.metadata`` file.
    """

    filename: str
    url: str
    hashes: dict[str, str] = field(default_factory=dict)
    requires_python: str | None = None
    yanked: bool | str = False
    size: int | None = None
    upload_time: str | None = None
    core_metadata: bool | dict[str, str] = False

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectPage:
    """A project's simple page: its files in index order, plus what the page says of itself."""

    name: str
    files: tuple[DistFile, ...]
    url: str = ""
    api_version: str | None = None
    versions: tuple[str, ...] = ()
    index_url: str = ""


_FILE_FIELDS = ("filename", "url", "hashes", "requires_python", "yanked", "size",
                "upload_time", "core_metadata")


def page_to_json(page: ProjectPage) -> dict[str, object]:
    """A JSON-ready form of ``page`` (the derived cache stores picked pages this way)."""
    return {"name": page.name, "url": page.url, "api_version": page.api_version,
            "versions": list(page.versions),
            "files": [[getattr(f, k) for k in _FILE_FIELDS] for f in page.files]}


def page_from_json(doc: dict[str, Any]) -> ProjectPage:
    """The inverse of :func:`page_to_json`."""
    files = tuple(DistFile(**dict(zip(_FILE_FIELDS, row, strict=True))) for row in doc["files"])
    return ProjectPage(name=doc["name"], files=files, url=doc["url"],
                       api_version=doc["api_version"], versions=tuple(doc["versions"]))
