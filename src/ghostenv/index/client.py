"""The async index client: one HTTP/2 connection pool, bounded concurrency, retries, cache.

Usage::

    async with IndexClient(index_url="https://pypi.org/simple/") as client:
        page = await client.project("Requests")
        meta = await client.metadata(page.files[-1])

Every network wait goes through :meth:`IndexClient._get`, which holds the semaphore, retries
connection errors, 429 (honouring ``Retry-After``) and 5xx with exponential backoff plus
jitter, and counts requests and bytes for the summary line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import netrc
import os
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from ghostenv.errors import NetworkError
from ghostenv.index.cache import CachedPage, HttpCache, max_age_of
from ghostenv.index.html import Pick, parse_html
from ghostenv.index.json import JSON_TYPE, parse_json
from ghostenv.index.models import (
    DistFile,
    ProjectPage,
    normalize_name,
    page_from_json,
    page_to_json,
)
from ghostenv.index.probe import MetadataProbe
from ghostenv.index.sdist import local_metadata, sdist_metadata

if TYPE_CHECKING:
    import httpx

    from ghostenv.wheel.metadata import CoreMetadata

def _absent_sniffio_fails_fast() -> None:
    """Make ``import sniffio`` fail at once when sniffio is not installed.

    httpcore 1.0.x runs ``import sniffio`` each time it sets up a lock or semaphore;
    anyio 4 no longer needs sniffio, so it is often absent, and then every attempt
    scans all of ``sys.path`` again (~0.3 ms; 1,200 times in a cold peek of the top
    100: 0.4 s). ``sys.modules[name] = None`` is Python's own way to record that a
    module cannot be imported: the same ImportError, without the scan.
    """
    import importlib.util
    import sys

    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_absent_sniffio_fails_fast()

PYPI = "https://pypi.org/simple/"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
#: for callers that need no PEP 700 field (peek): the plain HTML page is the smallest
#: (top 100 projects on the mirror measured: text/html 47.1 MB, v1+html 55.6 MB with
#: upload times, JSON 62.4 MB), and moving bytes is the cost. Only ``text/html``: that
#: mirror answers JSON whenever JSON is acceptable at all, whatever its q-value. A server
#: that refuses it (406) is asked again with :data:`ACCEPT`.
ACCEPT_HTML = "text/html"
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def redact(url: str) -> str:
    """``url`` without its password, for errors and logs."""
    parts = urlsplit(url)
    if parts.password is None and not parts.username:
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, f"{parts.username or ''}:****@{host}", parts.path,
                       parts.query, parts.fragment))


@dataclass(slots=True)
class Stats:
    """What the client cost so far."""

    requests: int = 0
    bytes: int = 0
    cache_hits: int = 0
    revalidated: int = 0


class ProjectNotFound(NetworkError):
    """No index (and no find-links location) lists the project at all."""


class IndexClient(MetadataProbe):
    """Simple-API client over a list of indexes (first index with a project wins)."""

    def __init__(self, index_url: str = PYPI, *, extra_index_urls: tuple[str, ...] = (),
                 find_links: tuple[str, ...] = (), cache_dir: Path | None = None,
                 concurrency: int = 50, offline: bool = False, refresh: bool = False,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.25,
                 prefer_html: bool = False) -> None:
        self.indexes = tuple(u if u.endswith("/") else u + "/" for u in
                             (index_url, *extra_index_urls))
        self.find_links = find_links
        self.cache = HttpCache(cache_dir) if cache_dir is not None else None
        self.offline = offline
        # prefer_html: ask for the HTML dialect first and keep those pages apart in the cache
        self._accept, self._variant = (ACCEPT_HTML, "html") if prefer_html else (ACCEPT, "")
        self.refresh = refresh
        self.retries = retries
        self.backoff = backoff
        self.stats = Stats()
        self._sem = asyncio.Semaphore(concurrency)
        self._probe: dict[str, bool] = {}  # host -> whether unadvertised .metadata works
        self._probe_score: dict[str, tuple[int, int]] = {}  # host -> (hits, misses)
        self._race_score: dict[str, tuple[int, int]] = {}  # host -> (probe wins, Range wins)
        self._grace: dict[str, float] = {}  # host -> seconds a probe may take alone
        self._racing: dict[str, int] = {}  # undecided host -> races in flight
        self._inflight: dict[str, asyncio.Task[bytes]] = {}
        self._writes: set[asyncio.Future[None]] = set()
        self._netrc: netrc.netrc | None = None
        try:
            self._netrc = netrc.netrc()
        except (OSError, netrc.NetrcParseError):
            self._netrc = None
        self._concurrency = concurrency
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first request: an --offline run (or one served
        from the cache) never loads the CA bundle (~20-50 ms) nor builds the pool."""
        if self._http is None:
            # httpx (with httpcore, h11, anyio: ~0.1 s to import) only when going online
            import httpx

            from ghostenv.index.transport import make_transport

            limits = httpx.Limits(max_connections=self._concurrency,
                                  max_keepalive_connections=self._concurrency)
            self._http = httpx.AsyncClient(
                # HTTP/2: one connection multiplexes every request (GHOSTENV_HTTP2=0 to
                # compare); asyncio streams and big frames under it (index.transport)
                transport=make_transport(http2=os.environ.get("GHOSTENV_HTTP2", "1") != "0",
                                         verify=_ssl_context(), limits=limits),
                follow_redirects=True, timeout=httpx.Timeout(self._timeout, connect=10.0),
            )
        return self._http

    async def __aenter__(self) -> IndexClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._inflight.values():
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        # every cache write finishes (or fails harmlessly) before the client is gone
        await asyncio.gather(*self._writes, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    def _write_behind(self, write: Callable[..., None], *args: object) -> None:
        """Run a cache write in a worker thread; the event loop goes on meanwhile.

        A write is a file lock, a temp file, an fsync and a rename: on a busy disk that
        is tens of milliseconds each, and done on the loop it stalled every transfer
        (a cold peek of the top 100 spent 1.6 s of 4.5 s in writes). The data is
        already in hand, so nothing waits for the write but :meth:`__aexit__`; a write
        that fails only costs the next run a refetch.
        """
        future = asyncio.get_running_loop().run_in_executor(None, write, *args)
        self._writes.add(future)
        future.add_done_callback(self._writes.discard)

    # -- HTTP ------------------------------------------------------------------------------

    def _auth(self, url: str) -> tuple[str, httpx.Auth | None]:
        """Split credentials off ``url``; fall back to ~/.netrc for its host."""
        import httpx

        parts = urlsplit(url)
        if parts.username:
            host = parts.hostname or ""
            if parts.port:
                host += f":{parts.port}"
            clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
            return clean, httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
        if self._netrc and parts.hostname:
            entry = self._netrc.authenticators(parts.hostname)
            if entry:
                return url, httpx.BasicAuth(entry[0], entry[2] or "")
        return url, None

    async def _get(self, url: str, headers: dict[str, str] | None = None,
                   *, ok: tuple[int, ...] = (200,)) -> httpx.Response:
        """GET with retries; returns responses whose status is in ``ok`` or 304/404."""
        import httpx

        if self.offline:
            raise NetworkError(f"{redact(url)} is not in the cache and the network is off",
                               hint="run again without --offline")
        clean, auth = self._auth(url)
        attempt = 0
        while True:
            wait = self.backoff * (2 ** attempt) * (0.5 + random.random())
            try:
                async with self._sem:
                    self.stats.requests += 1
                    resp = await self.http.get(clean, headers=headers,
                                               auth=auth or httpx.USE_CLIENT_DEFAULT)
                    self.stats.bytes += len(resp.content)
                if resp.status_code in ok or resp.status_code in (304, 404, 410):
                    return resp
                if resp.status_code not in _RETRY_STATUS or attempt >= self.retries:
                    raise NetworkError(f"{redact(url)} answered HTTP {resp.status_code}",
                                       hint="check the index URL and credentials")
                after = resp.headers.get("retry-after", "")
                if after.isdigit():
                    wait = max(wait, min(float(after), 30.0))
            except (httpx.TransportError, httpx.DecodingError) as exc:
                if attempt >= self.retries:
                    raise NetworkError(f"{redact(url)}: {type(exc).__name__} after "
                                       f"{attempt + 1} attempts",
                                       hint="check your connection or the index URL") from None
            attempt += 1
            await asyncio.sleep(wait)

    # -- pages -----------------------------------------------------------------------------

    async def _page(self, index: str, name: str, pick: Pick | None = None,
                    pick_key: str | None = None) -> ProjectPage | None:
        url = urljoin(index, name + "/")
        if url.startswith("file:"):
            return _file_page(url, name, pick)
        keyed = pick is not None and pick_key is not None and self.cache is not None
        cached = self.cache.get_page(url, self._variant) if self.cache else None
        if cached is None and self.offline and self._variant and self.cache:
            cached = self.cache.get_page(url)  # offline, any dialect beats none
        if cached is not None and not cached.has_body and not keyed:
            cached = None  # only a keyed pick can use an entry stored without its body
        if cached and (self.offline or (not self.refresh and cached.fresh())):
            if cached.has_body:
                self.stats.cache_hits += 1
                return self._parse_picked(cached, name, pick, pick_key)
            found = self._stored_pick(cached, pick_key or "")
            if found is not None:
                self.stats.cache_hits += 1
                return found
            cached = None  # body-less, and its pick is gone: fetch
        if self.offline:
            raise NetworkError(f"the page of `{name}` ({redact(url)}) is not in the cache "
                               "and the network is off", hint="run once without --offline")
        headers = {"Accept": self._accept}
        if cached and not self.refresh:
            headers.update(cached.conditional_headers())
        resp = await self._get(url, headers, ok=(200, 406))
        if resp.status_code == 406:
            resp = await self._get(url, {**headers, "Accept": ACCEPT})
        if resp.status_code in (404, 410):
            return None
        if resp.status_code == 304 and cached and cached.has_body:
            self.stats.revalidated += 1
            page = CachedPage(url, cached.body, cached.content_type, cached.etag,
                              cached.last_modified, time.time(),
                              max_age_of(resp.headers.get("cache-control")), cached.digest)
        else:
            page = CachedPage(url, resp.content,
                              resp.headers.get("content-type", "text/html"),
                              resp.headers.get("etag"), resp.headers.get("last-modified"),
                              time.time(), max_age_of(resp.headers.get("cache-control")))
        # stored even without validators: it cannot be revalidated, but --offline can use it.
        # An unchanged body with nothing to keep fresh is not rewritten (a warm run over the
        # top 100 projects would otherwise write 60 MB again).
        same_headers = (cached is not None and page.max_age == 0
                        and (cached.etag, cached.last_modified, cached.content_type)
                        == (page.etag, page.last_modified, page.content_type))
        if same_headers and cached is not None and not cached.has_body:
            # stored as a digest: hash the new bytes off the loop (sha256 releases the GIL)
            digest = await asyncio.to_thread(_sha256, page.body)
            page = dataclasses.replace(page, digest=digest)
            if digest == cached.digest:
                return self._parse_picked(page, name, pick, pick_key)
        elif (same_headers and cached is not None
              and cached.digest is not None and cached.body == page.body):  # (older: once)
            return self._parse_picked(cached, name, pick, pick_key)  # keeps stored digest
        if not self.cache or "no-store" in resp.headers.get("cache-control", ""):
            return self._parse_picked(page, name, pick, pick_key)
        if keyed and pick is not None and pick_key is not None:
            # bytes not seen before: no pick to look up, and the one sha256 that keys
            # both entries is taken in the writer thread, not on the loop (cold peek
            # of the top 100: 47 MB hashed there took 0.3 s of the loop's time)
            parsed = _parse(page, name, pick)
            self._write_behind(self._store_picked, page, pick_key, page_to_json(parsed))
            return parsed
        self._write_behind(self.cache.put_page, page, self._variant)
        return self._parse_picked(page, name, pick, pick_key)

    def _store_picked(self, page: CachedPage, pick_key: str, value: object) -> None:
        """Store a new page body and what ``pick_key`` chose from it (in a worker thread).

        A page without validators (the mirror's) cannot be revalidated, so its stored
        bytes serve only to tell a refetched copy is the same: the digest does that,
        and the pick keyed by it serves ``--offline``. Storing it body-less spares
        writing (and on the next run reading) the page: 47 MB for the top 100.
        """
        if self.cache is None:
            return
        digest = page.digest or _sha256(page.body)
        body = page.etag is not None or page.last_modified is not None
        self.cache.put_page(dataclasses.replace(page, digest=digest), self._variant, body=body)
        self.cache.put_derived(pick_key, page.body, value, digest)

    def _stored_pick(self, page: CachedPage, pick_key: str) -> ProjectPage | None:
        """What ``pick_key`` chose from exactly ``page``'s bytes before, if stored."""
        if self.cache is None:
            return None
        found = self.cache.get_derived(pick_key, page.body, page.digest)
        if isinstance(found, dict):
            try:
                return page_from_json(found)
            except (KeyError, TypeError, ValueError):
                pass
        return None

    def _parse_picked(self, page: CachedPage, name: str, pick: Pick | None,
                      pick_key: str | None) -> ProjectPage:
        """Parse ``page``; a keyed pick is remembered per body, so an unchanged page
        (refetched because the index sends no validators) is not decoded again."""
        if pick is None or pick_key is None or self.cache is None:
            return _parse(page, name, pick)
        found = self._stored_pick(page, pick_key)
        if found is not None:
            return found
        parsed = _parse(page, name, pick)
        self._write_behind(self.cache.put_derived, pick_key, page.body, page_to_json(parsed),
                           page.digest)
        return parsed

    async def project(self, name: str, *, pick: Pick | None = None,
                      pick_key: str | None = None) -> ProjectPage:
        """The files of ``name``: from the first index that has it, plus find-links files.

        With ``pick`` only the files it chooses (from every filename and yanked flag on
        the index page) are parsed and returned: a partial page, for callers that need
        one version (``peek``). With a ``pick_key`` too (naming what ``pick`` does), the
        result is cached per page body.
        """
        norm = normalize_name(name)
        page: ProjectPage | None = None
        for index in self.indexes:
            page = await self._page(index, norm, pick, pick_key)
            if page is not None:
                page = page.found_as(norm, index)  # its files stay lazy
                break
        extra = await self._find_links(norm)
        if page is None and not extra:
            raise ProjectNotFound(f"package `{name}` was not found on "
                               + ", ".join(redact(i) for i in self.indexes),
                               hint="check the spelling, or add --extra-index-url")
        if page is None:
            return ProjectPage(name=norm, files=tuple(extra))
        if extra:
            page = ProjectPage(name=norm, files=page.files + tuple(extra), url=page.url,
                               api_version=page.api_version, versions=page.versions,
                               index_url=page.index_url)
        return page

    async def _find_links(self, norm: str) -> list[DistFile]:
        files: list[DistFile] = []
        for link in self.find_links:
            if "://" not in link or link.startswith("file:"):
                root = Path(unquote(urlsplit(link).path) if link.startswith("file:") else link)
                if root.is_dir():
                    found = [DistFile(filename=p.name, url=p.resolve().as_uri())
                             for p in sorted(root.iterdir()) if p.is_file()]
                elif root.is_file():
                    found = list(parse_html(root.read_text(), root.resolve().as_uri()).files)
                else:
                    continue
            else:
                resp = await self._get(link)
                if resp.status_code != 200:
                    continue
                found = list(parse_html(resp.text, str(resp.url)).files)
            files.extend(f for f in found if _project_of(f.filename) == norm)
        return files

    # -- metadata --------------------------------------------------------------------------

    def prefetch(self, files: list[DistFile]) -> None:
        """Start fetching the metadata of ``files`` now, without waiting (pipelining).

        The resolver calls this with the likely candidates of a version's dependencies;
        a later :meth:`metadata` for the same file joins the request already in flight.
        """
        for file in files:
            self._task(file)

    def _task(self, file: DistFile) -> asyncio.Task[bytes]:
        task = self._inflight.get(file.url)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._metadata_bytes(file))
            self._inflight[file.url] = task
        return task

    async def metadata_bytes(self, file: DistFile) -> bytes:
        """Core metadata bytes of ``file``; concurrent callers share one fetch."""
        return await asyncio.shield(self._task(file))

    async def _metadata_bytes(self, file: DistFile) -> bytes:
        """Core metadata bytes of ``file``, by the cheapest route the index allows."""
        key = next(((a, d) for a, d in file.hashes.items() if a in ("sha256", "sha512")), None)
        if self.cache and key:
            hit = self.cache.get_metadata(*key)
            if hit is not None:
                self.stats.cache_hits += 1
                return hit
        data = await self._fetch_metadata(file)
        if self.cache and key:
            self._write_behind(self.cache.put_metadata, key[0], key[1], data)
        return data

    async def metadata(self, file: DistFile) -> CoreMetadata:
        from ghostenv.wheel.metadata import parse_metadata

        return parse_metadata(await self.metadata_bytes(file), source=file.filename)

    async def _fetch_metadata(self, file: DistFile) -> bytes:
        if file.url.startswith("file:"):
            return local_metadata(Path(unquote(urlsplit(file.url).path)))
        if file.core_metadata:
            resp = await self._get(file.url + ".metadata")
            if resp.status_code == 200:
                return resp.content
        elif file.is_wheel and self._probe.get(urlsplit(file.url).netloc, True):
            # undecided, or known to serve them: the first answer from a host decides
            # whether the others probe (no waiting for it: a few probes may be in flight)
            return await self._probe_or_range(file, urlsplit(file.url).netloc)
        if file.is_wheel:
            return await self._range_metadata(file)
        resp = await self._get(file.url)
        if resp.status_code != 200:
            raise NetworkError(f"{redact(file.url)} answered HTTP {resp.status_code}")
        return sdist_metadata(resp.content, file.filename)

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _parse(page: CachedPage, name: str, pick: Pick | None = None) -> ProjectPage:
    if JSON_TYPE in page.content_type:
        return parse_json(page.body, page.url, pick=pick)
    return parse_html(page.body.decode("utf-8", "replace"), page.url, name, pick=pick)


def _file_page(url: str, name: str, pick: Pick | None = None) -> ProjectPage | None:
    path = Path(unquote(urlsplit(url).path))
    for candidate in (path / "index.html", path.with_suffix(".html")):
        if candidate.is_file():
            return parse_html(candidate.read_text(), url, name, pick=pick)
    return None


def _project_of(filename: str) -> str:
    """Normalized project name from a wheel or sdist filename."""
    if filename.endswith(".whl"):
        return normalize_name(filename.split("-", 1)[0])
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(ext):
            return normalize_name(filename[: -len(ext)].rpartition("-")[0])
    return ""


def _ssl_context() -> ssl.SSLContext:
    """The system trust store (plus ``SSL_CERT_FILE``), so corporate CAs work as with pip."""
    ctx = ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or None)
    if os.path.exists(_SYSTEM_CA) and not os.environ.get("SSL_CERT_FILE"):
        ctx.load_verify_locations(cafile=_SYSTEM_CA)
    return ctx


_SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"


__all__ = ["IndexClient", "Stats", "redact"]
