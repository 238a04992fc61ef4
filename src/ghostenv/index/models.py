"""What an index says about a project: its files, independent of the dialect (HTML or JSON)."""

from __future__ import annotations

import re
from collections.abc import Callable
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


#: what the resolver reads of every file on a page: (filename, requires-python, yanked)
FileRow = tuple[str, str | None, bool | str]


class ProjectPage:
    """A project's simple page: its files in index order, plus what the page says of itself.

    Immutable. ``files`` may be built lazily: a large JSON page (botocore: 5,000 files;
    a 215-package lock reads 120,000) is kept as its decoded entries plus one cheap
    :data:`FileRow` per file, which is all the resolver reads of most files; a
    :class:`DistFile` is made when a file is asked for (:meth:`file_at`, ``files``),
    so only the versions a resolution looks at pay for theirs.
    """

    __slots__ = ("_build", "_built", "_files", "_rows", "api_version", "index_url", "name",
                 "url", "versions")

    def __init__(self, *, name: str, files: tuple[DistFile, ...] = (), url: str = "",
                 api_version: str | None = None, versions: tuple[str, ...] = (),
                 index_url: str = "") -> None:
        self.name = name
        self.url = url
        self.api_version = api_version
        self.versions = versions
        self.index_url = index_url
        self._files: tuple[DistFile, ...] | None = tuple(files)
        self._rows: list[FileRow] | None = None
        self._build: Callable[[int], DistFile] | None = None
        self._built: dict[int, DistFile] = {}

    @classmethod
    def lazy(cls, *, name: str, rows: list[FileRow], build: Callable[[int], DistFile],
             url: str = "", api_version: str | None = None, versions: tuple[str, ...] = (),
             index_url: str = "") -> ProjectPage:
        """A page whose file ``i`` (described by ``rows[i]``) is ``build(i)``, made on demand."""
        page = cls(name=name, url=url, api_version=api_version, versions=versions,
                   index_url=index_url)
        page._files = None
        page._rows = rows
        page._build = build
        return page

    def found_as(self, name: str, index_url: str) -> ProjectPage:
        """The same page (its lazy files shared) under ``name``, as found on ``index_url``."""
        if self._files is not None:
            return ProjectPage(name=name, files=self._files, url=self.url,
                               api_version=self.api_version, versions=self.versions,
                               index_url=index_url)
        page = ProjectPage.lazy(name=name, rows=self._rows or [], url=self.url,
                                build=self._build or _no_file, api_version=self.api_version,
                                versions=self.versions, index_url=index_url)
        page._built = self._built
        return page

    @property
    def files(self) -> tuple[DistFile, ...]:
        if self._files is None:
            self._files = tuple(self.file_at(i) for i in range(len(self._rows or ())))
        return self._files

    def file_rows(self) -> list[FileRow]:
        """(filename, requires-python, yanked) of every file, in the order of ``files``."""
        if self._rows is not None:
            return self._rows
        return [(f.filename, f.requires_python, f.yanked) for f in self.files]

    def file_at(self, index: int) -> DistFile:
        """File ``index`` of ``files`` (made now if the page is lazy and it is the first ask)."""
        if self._files is not None:
            return self._files[index]
        file = self._built.get(index)
        if file is None:
            file = self._built[index] = (self._build or _no_file)(index)
        return file

    def _key(self) -> tuple[object, ...]:
        return (self.name, self.files, self.url, self.api_version, self.versions,
                self.index_url)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProjectPage):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]  # equal by value, files hold dicts

    def __repr__(self) -> str:
        return (f"ProjectPage(name={self.name!r}, files=<{len(self.file_rows())} files>, "
                f"url={self.url!r}, api_version={self.api_version!r}, "
                f"versions=<{len(self.versions)}>, index_url={self.index_url!r})")


def _no_file(index: int) -> DistFile:
    raise IndexError(index)


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
