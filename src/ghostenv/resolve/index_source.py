"""A synchronous resolver :class:`~ghostenv.resolve.python.Source` over the async index client.

The solver is plain synchronous code; the index client is asyncio. The bridge
runs one event loop in a background thread for the whole resolution, so work
started by :meth:`IndexSource.prefetch` (project pages, metadata of the likely
next candidates) goes on while the solver thinks, and a later blocking call for
the same thing joins the request already in flight.

Every command that resolves (resolve, lock, install, run --with, build
environments) shares this one class, so caching, credentials, find-links and
the metadata fallbacks behave the same everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ghostenv.errors import GhostenvError, ResolutionError

if TYPE_CHECKING:
    from packaging.version import Version

    from ghostenv.index import DistFile, ProjectPage
    from ghostenv.index.client import IndexClient
    from ghostenv.resolve.python import Candidate, Metadata, Target

T = TypeVar("T")

DEFAULT_INDEX = "https://pypi.org/simple/"


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """Where packages come from, and how the HTTP cache is used."""

    index_url: str = DEFAULT_INDEX
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    cache_dir: Path | None = None
    offline: bool = False
    refresh: bool = False
    concurrency: int = 50


#: Builds core metadata for a source distribution when its PKG-INFO cannot be trusted
#: (a PEP 517 ``prepare_metadata_for_build_wheel``); receives the sdist's DistFile.
SdistMetadata = Callable[["DistFile"], bytes]


class IndexSource:
    """Candidates and metadata for the resolver, fetched through :class:`IndexClient`.

    ``target`` decides which wheel metadata is read from (one the target can
    install, else any); ``None`` means "any platform" (universal resolution).
    """

    def __init__(self, settings: IndexSettings, target: Target | None = None, *,
                 log: Callable[[str], None] | None = None,
                 sdist_metadata: SdistMetadata | None = None) -> None:
        self.settings = settings
        self.target = target
        self.log = log or (lambda _text: None)
        self.sdist_metadata = sdist_metadata
        self._pages: dict[str, ProjectPage] = {}
        self._files: dict[tuple[str, str], list[DistFile]] = {}
        self._candidates: dict[str, list[Candidate]] = {}
        self._metadata: dict[tuple[str, str], Metadata] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: IndexClient | None = None
        self._page_futures: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> IndexSource:
        from ghostenv.index.client import IndexClient

        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="ghostenv-index",
                                        daemon=True)
        self._thread.start()
        s = self.settings

        async def make() -> IndexClient:
            return IndexClient(s.index_url, extra_index_urls=s.extra_index_urls,
                               find_links=s.find_links, cache_dir=s.cache_dir,
                               concurrency=s.concurrency, offline=s.offline, refresh=s.refresh)

        self._client = self._run(make())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._client is not None:
            # closing must not hide the error that got us here
            with contextlib.suppress(Exception):
                self._run(self._client.__aexit__(None, None, None))
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
        self._loop = None

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None, "use IndexSource as a context manager"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    @property
    def client(self) -> IndexClient:
        assert self._client is not None, "use IndexSource as a context manager"
        return self._client

    # -- pages -------------------------------------------------------------------------
    def page(self, name: str) -> ProjectPage:
        """The project's simple page (404 = no files), fetched once."""
        from ghostenv.index.models import normalize_name

        norm = normalize_name(name)
        found = self._pages.get(norm)
        if found is None:
            future = self._page_futures.get(norm)
            if future is None:
                future = self._schedule_page(norm)
            try:
                found = future.result()
            except GhostenvError:
                raise
            self._pages[norm] = found
        return found

    def _schedule_page(self, norm: str) -> Any:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._project(norm), self._loop)
        self._page_futures[norm] = future
        return future

    async def _project(self, norm: str) -> ProjectPage:
        """A missing project is a project without versions: the solver reports it as such."""
        from ghostenv.index.client import ProjectNotFound
        from ghostenv.index.models import ProjectPage

        try:
            return await self.client.project(norm)
        except ProjectNotFound:
            return ProjectPage(name=norm, files=())

    def prefetch(self, names: Sequence[str]) -> None:
        """Start fetching the pages of ``names`` (the solver's hint); never blocks."""
        from ghostenv.index.models import normalize_name

        for name in names:
            norm = normalize_name(name)
            if norm not in self._pages and norm not in self._page_futures:
                self._schedule_page(norm)

    # -- Source protocol ---------------------------------------------------------------
    def versions(self, name: str) -> Sequence[Candidate]:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.utils import InvalidSdistFilename, parse_sdist_filename

        from ghostenv.errors import WheelError
        from ghostenv.index.models import normalize_name
        from ghostenv.resolve.python import Candidate
        from ghostenv.wheel.filename import parse_wheel_name

        norm = normalize_name(name)
        cached = self._candidates.get(norm)
        if cached is not None:
            return cached
        grouped: dict[Version, list[DistFile]] = {}
        for file in self.page(norm).files:
            try:
                if file.is_wheel:
                    version = parse_wheel_name(file.filename).version
                else:
                    version = parse_sdist_filename(file.filename)[1]
            except (WheelError, InvalidSdistFilename, ValueError):
                continue
            grouped.setdefault(version, []).append(file)
        out = []
        for version, files in grouped.items():
            self._files[(norm, str(version))] = files
            wheels = [f for f in files if f.is_wheel]
            tags = tuple(sorted({t for f in wheels for t in parse_wheel_name(f.filename).tags}))
            requires = next((f.requires_python for f in files if f.requires_python), None)
            try:
                spec = SpecifierSet(requires) if requires else None
            except InvalidSpecifier:
                spec = None
            out.append(Candidate(version=version, requires_python=spec, wheel_tags=tags,
                                 has_sdist=any(not f.is_wheel for f in files),
                                 yanked=all(bool(f.yanked) for f in files)))
        self._candidates[norm] = out
        return out

    def files(self, name: str, version: Version) -> list[DistFile]:
        """Every file the index lists for ``name`` at ``version`` (wheels and sdists)."""
        from ghostenv.index.models import normalize_name

        norm = normalize_name(name)
        self.versions(norm)
        return list(self._files.get((norm, str(version)), []))

    def best_wheel(self, name: str, version: Version) -> DistFile | None:
        """A wheel the target can install (any wheel when there is no target)."""
        from packaging.tags import parse_tag

        from ghostenv.wheel.filename import parse_wheel_name

        wheels = [f for f in self.files(name, version) if f.is_wheel]
        if self.target is not None:
            for file in wheels:
                tags = {t for c in parse_wheel_name(file.filename).tags for t in parse_tag(c)}
                if tags & self.target.tags:
                    return file
        return wheels[0] if wheels else None

    def metadata(self, name: str, version: Version) -> Metadata:
        from ghostenv.index.models import normalize_name
        from ghostenv.resolve.python import Metadata

        norm = normalize_name(name)
        key = (norm, str(version))
        found = self._metadata.get(key)
        if found is not None:
            return found
        file = self.best_wheel(norm, version)
        if file is not None:
            data = self._run(self.client.metadata_bytes(file))
        else:
            sdist = next((f for f in self.files(norm, version) if not f.is_wheel), None)
            if sdist is None:
                raise ResolutionError(f"{norm} {version}: the index lists no file to read "
                                      "metadata from")
            data = self._sdist_metadata(sdist)
            file = sdist
        self.log(f"metadata {file.filename}")
        requires, extras = lenient_requirements(data, file.filename)
        found = Metadata(requires, extras)
        self._metadata[key] = found
        return found

    def _sdist_metadata(self, sdist: DistFile) -> bytes:
        """PKG-INFO when it is trustworthy (2.2+, nothing dynamic), else a PEP 517 build."""
        from email.parser import BytesHeaderParser

        data = self._run(self.client.metadata_bytes(sdist))
        headers = BytesHeaderParser().parsebytes(data)
        raw = str(headers.get("Metadata-Version", "1.0"))
        try:
            version = tuple(int(p) for p in raw.split("."))
        except ValueError:
            version = (1, 0)
        dynamic = {d.lower() for d in headers.get_all("Dynamic") or []}
        trusted = version >= (2, 2) and not ({"requires-dist", "provides-extra"} & dynamic)
        if trusted or self.sdist_metadata is None:
            return data
        built: bytes = self.sdist_metadata(sdist)
        return built


def lenient_requirements(data: bytes, source: str) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    """Requires-Dist and Provides-Extra of core metadata, as old real files have them.

    The strict parser (:func:`ghostenv.wheel.metadata.parse_metadata`) rejects
    metadata that pip and uv install without complaint (a License-File under 2.1,
    ``Metadata-Version: 2.0``); the resolver only needs two fields, so it reads
    those and skips requirement lines that do not parse, as pip does.
    """
    from email.parser import BytesHeaderParser

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        from ghostenv.wheel.metadata import parse_metadata

        core = parse_metadata(data, source=source)
        return core.requires_dist, core.provides_extra
    except GhostenvError:
        pass
    headers = BytesHeaderParser().parsebytes(data)
    requires = []
    for line in headers.get_all("Requires-Dist") or []:
        try:
            requires.append(Requirement(str(line)))
        except InvalidRequirement:
            continue
    extras = tuple(canonicalize_name(str(e)) for e in headers.get_all("Provides-Extra") or [])
    return tuple(requires), extras
