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

import contextlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ghostenv.errors import ResolutionError
from ghostenv.resolve.index_pages import _parse, _split_filename, candidates_of

__all__ = [
    "IndexSettings",
    "IndexSource",
    "Lookahead",
    "_parse",
    "_split_filename",
    "open_source",
]

if TYPE_CHECKING:
    import asyncio
    import threading

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


class Lookahead(Protocol):
    """What :meth:`IndexSource.prefetch` needs to fetch further ahead than pages.

    Both methods run on the index thread, never block, and only guess: a wrong
    guess costs one fetch, never a wrong answer (the solver asks again).
    """

    def choose(self, name: str) -> Version | None:
        """The version the solver will most likely pick for ``name`` (its page is known)."""
        ...

    def follow(self, name: str, version: Version, metadata: Metadata) -> Sequence[str]:
        """Projects to fetch next once ``metadata`` of the likely version is known."""
        ...


#: How many projects one resolution may fetch on speculation (a bound, not a tuning knob:
#: the graphs seen in practice are far smaller; a wrong guess must not fetch the world).
SPECULATION_LIMIT = 2000

#: Builds core metadata for a source distribution when its PKG-INFO cannot be trusted
#: (a PEP 517 ``prepare_metadata_for_build_wheel``); receives the sdist's DistFile.
SdistMetadata = Callable[["DistFile"], bytes]


def open_source(settings: IndexSettings, target: Target | None = None, *,
                log: Callable[[str], None] | None = None,
                sdist_metadata: SdistMetadata | None = None) -> IndexSource:
    """:class:`IndexSource` for http(s) and file indexes; a plugin's source for other schemes.

    A plugin implementing ``ghostenv_index_source(url, settings)`` returns an object
    with IndexSource's interface (a context manager with versions/metadata/files/
    best_wheel/page/prefetch). Only an unknown scheme touches the plugin machinery.
    """
    from urllib.parse import urlsplit

    scheme = urlsplit(settings.index_url).scheme.lower()
    if scheme in ("http", "https", "file", ""):
        return IndexSource(settings, target, log=log, sdist_metadata=sdist_metadata)
    from ghostenv import plugins
    from ghostenv.errors import UsageError
    from ghostenv.index.client import redact

    source = plugins.index_source(settings.index_url, settings)
    if source is None:
        raise UsageError(f"{redact(settings.index_url)}: no index client for `{scheme}:` URLs",
                         hint="use an http(s):// or file:// index, or install the plugin "
                         "that serves this scheme")
    return source  # type: ignore[return-value]  # a plugin's duck-typed IndexSource


class IndexSource:
    """Candidates and metadata for the resolver, fetched through :class:`IndexClient`.

    ``target`` decides which wheel metadata is read from (one the target can
    install, else any); ``None`` means "any platform" (universal resolution).
    """

    #: :meth:`prefetch` takes a ``lookahead`` (read by PythonProvider).
    accepts_lookahead = True

    def __init__(self, settings: IndexSettings, target: Target | None = None, *,
                 log: Callable[[str], None] | None = None,
                 sdist_metadata: SdistMetadata | None = None) -> None:
        self.settings = settings
        self.target = target
        self.log = log or (lambda _text: None)
        self.sdist_metadata = sdist_metadata
        self._pages: dict[str, ProjectPage] = {}
        # (name, version text) -> the page and the positions of that version's files on it
        self._files: dict[tuple[str, str], tuple[ProjectPage, list[int]]] = {}
        self._candidates: dict[str, list[Candidate]] = {}
        self._metadata: dict[tuple[str, str], Metadata] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: IndexClient | None = None
        # loop-thread state: one task per page, the speculation in flight
        self._page_tasks: dict[str, asyncio.Task[ProjectPage]] = {}
        self._speculating: set[asyncio.Task[None]] = set()
        self._speculated: set[str] = set()
        self._versions_lock = _new_lock()

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> IndexSource:
        import asyncio
        import threading

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
                self._run(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        loop.close()
        self._loop = None

    async def _shutdown(self) -> None:
        import asyncio

        pending = [*self._speculating, *self._page_tasks.values()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.client.__aexit__(None, None, None)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        import asyncio

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
            found = self._run(self._page_async(norm))
            self._pages[norm] = found
        return found

    def _page_task(self, norm: str) -> asyncio.Task[ProjectPage]:
        """The one fetch of ``norm``'s page (loop thread only)."""
        import asyncio

        task = self._page_tasks.get(norm)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._project(norm))
            self._page_tasks[norm] = task
        return task

    async def _page_async(self, norm: str) -> ProjectPage:
        import asyncio

        # shielded: a caller giving up must not cancel the fetch others share
        return await asyncio.shield(self._page_task(norm))

    async def _project(self, norm: str) -> ProjectPage:
        """A missing project is a project without versions: the solver reports it as such."""
        from ghostenv.index.client import ProjectNotFound
        from ghostenv.index.models import ProjectPage

        try:
            return await self.client.project(norm)
        except ProjectNotFound:
            return ProjectPage(name=norm, files=())

    def prefetch(self, names: Sequence[str], *, lookahead: Lookahead | None = None) -> None:
        """Start fetching the pages of ``names`` (the solver's hint); never blocks.

        With a ``lookahead`` (the resolver's provider) the fetch goes on by itself:
        once a page arrives, the metadata of the version ``lookahead.choose`` names is
        fetched and parsed, and the projects ``lookahead.follow`` names from it are
        fetched the same way, so the dependency graph streams in while the solver
        works instead of one round trip per decision.
        """
        from ghostenv.index.models import normalize_name

        assert self._loop is not None, "use IndexSource as a context manager"
        norms = [normalize_name(n) for n in names]
        # Names already under way are left alone, so a hint about nothing new costs no
        # wake-up of the index thread: each one is a socket write plus a GIL hand-over
        # (~2 ms on a loaded machine; a large universal lock makes hundreds of them).
        # A project is speculated once, with the first range asked for; if the solver
        # later picks another version, its metadata() fetch and the prefetch of that
        # version's dependencies take over.
        if lookahead is None:
            norms = [n for n in norms if n not in self._pages and n not in self._page_tasks]
        else:
            norms = [n for n in norms if n not in self._speculated]
        if norms:
            self._loop.call_soon_threadsafe(self._start, norms, lookahead)

    def _start(self, norms: list[str], lookahead: Lookahead | None) -> None:
        """Loop thread: schedule pages, and speculation when there is a lookahead."""
        import asyncio

        for norm in norms:
            self._page_task(norm)
            if lookahead is not None and norm in self._speculated:
                continue
            if lookahead is not None and len(self._speculated) < SPECULATION_LIMIT:
                self._speculated.add(norm)
                task = asyncio.get_running_loop().create_task(self._speculate(norm, lookahead))
                self._speculating.add(task)
                task.add_done_callback(self._speculating.discard)

    async def _speculate(self, norm: str, lookahead: Lookahead) -> None:
        """Page, likely version, its metadata, then the same for what it depends on."""
        import asyncio

        try:
            page = await self._page_async(norm)
            self._pages.setdefault(norm, page)
            version = lookahead.choose(norm)
            if version is None:
                return
            key = (norm, str(version))
            found = self._metadata.get(key)
            if found is None:
                file = self.best_wheel(norm, version)
                if file is None:
                    return  # sdists may need a build: only the solver decides to pay for one
                data = await self.client.metadata_bytes(file)
                found = self._metadata.setdefault(key, _parse(data, file.filename))
            follow = [n for n in lookahead.follow(norm, version, found)
                      if n not in self._speculated]
            if follow:
                self._start(follow, lookahead)
        except asyncio.CancelledError:
            raise
        except Exception:  # a guess: the solver's own request reports the error
            return

    # -- Source protocol ---------------------------------------------------------------
    def versions(self, name: str) -> Sequence[Candidate]:
        """One :class:`Candidate` per version on the page (see ``index_pages.candidates_of``)."""
        from ghostenv.index.models import normalize_name

        norm = normalize_name(name)
        cached = self._candidates.get(norm)
        if cached is not None:
            return cached
        page = self.page(norm)
        # the solver and the lookahead (index thread) may both ask: compute once
        with self._versions_lock:
            cached = self._candidates.get(norm)
            if cached is None:
                cached = self._versions_of(norm, page)
        return cached

    def _versions_of(self, norm: str, page: ProjectPage) -> list[Candidate]:
        out, files = candidates_of(norm, page)
        for version, group in files.items():
            self._files[(norm, version)] = (page, group)
        self._candidates[norm] = out
        return out

    def files(self, name: str, version: Version) -> list[DistFile]:
        """Every file the index lists for ``name`` at ``version`` (wheels and sdists)."""
        from ghostenv.index.models import normalize_name

        norm = normalize_name(name)
        self.versions(norm)
        found = self._files.get((norm, str(version)))
        if found is None:
            return []
        page, positions = found
        return [page.file_at(i) for i in positions]

    def best_wheel(self, name: str, version: Version) -> DistFile | None:
        """The wheel the target prefers (its best-ranked tag, as uv and pip choose).

        Else any wheel of the version (its metadata is the same), None without wheels.
        """
        from packaging.tags import parse_tag

        from ghostenv.wheel.filename import parse_wheel_name

        wheels = [f for f in self.files(name, version) if f.is_wheel]
        if self.target is not None:
            rank = self.target.rank
            best: tuple[int, int, DistFile] | None = None
            for at, file in enumerate(wheels):
                tags = {t for c in parse_wheel_name(file.filename).tags for t in parse_tag(c)}
                usable = tags & self.target.tags
                if not usable:
                    continue
                if not rank:  # tag order unknown: the index's first usable wheel
                    return file
                score = min(rank.get(t, len(rank)) for t in usable)
                if best is None or (score, at) < best[:2]:
                    best = (score, at, file)
            if best is not None:
                return best[2]
        return wheels[0] if wheels else None

    def metadata(self, name: str, version: Version) -> Metadata:
        from ghostenv.index.models import normalize_name

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
        return self._metadata.setdefault(key, _parse(data, file.filename))

    def _sdist_metadata(self, sdist: DistFile) -> bytes:
        """PKG-INFO when it is trustworthy (2.2+, nothing dynamic), else a PEP 517 build."""
        from email.parser import BytesHeaderParser

        from ghostenv.errors import BuildError

        try:
            data = self._run(self.client.metadata_bytes(sdist))
        except BuildError:
            # no PKG-INFO, or one that cannot be trusted (< 2.2, dynamic fields)
            if self.sdist_metadata is None:
                raise
            return self.sdist_metadata(sdist)
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


def _new_lock() -> contextlib.AbstractContextManager[bool]:
    import threading

    return threading.Lock()
