"""Getting wheels into the store: local files directly, remote ones by parallel HTTP/2 downloads.

A download is hashed while it streams into a temp file inside the store (same
filesystem, so nothing is copied afterwards); a digest that disagrees with the
one the index or lock gave is a :class:`HashMismatchError` naming the file and
both digests, and the partial file is removed. The wheel is then unpacked in a
worker thread while other downloads go on. ``httpx`` and ``asyncio`` are
imported only when something really has to come over the network: a warm
install never pays for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import HashMismatchError, NetworkError

if TYPE_CHECKING:
    import httpx

    from ghostenv.store.cas import Store
    from ghostenv.store.manifest import WheelManifest

#: Parallel downloads; enough to hide latency on one HTTP/2 connection.
DOWNLOADS = 16
ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class WheelSource:
    """One wheel to bring into the store: ``url`` is http(s), ``file:`` or a plain path."""

    key: str
    filename: str
    url: str
    sha256: str | None = None


def local_path(url: str) -> Path | None:
    """The filesystem path of a ``file:`` URL or plain path; None for http(s)."""
    if url.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(url).path))
    if url.startswith(("http://", "https://")):
        return None
    return Path(url)


def fetch_wheels(sources: Sequence[WheelSource], store: Store, *,
                 progress: Callable[[str], None] = lambda _t: None,
                 offline: bool = False) -> dict[str, WheelManifest]:
    """Bring every source into the store; returns ``key -> manifest``."""
    results: dict[str, WheelManifest] = {}
    remote: list[WheelSource] = []
    for source in sources:
        path = local_path(source.url)
        if path is None:
            remote.append(source)
            continue
        results[source.key] = store.add_wheel(path, expected_sha256=source.sha256,
                                              filename=source.filename)
    if remote:
        if offline:
            names = ", ".join(s.filename for s in remote[:3])
            raise NetworkError(f"offline, and the store lacks {len(remote)} wheel(s): {names}",
                               hint="run once without --offline to fill the store")
        import asyncio

        try:
            results.update(asyncio.run(_download_all(remote, store, progress)))
        except BaseExceptionGroup as group:
            raise _first(group) from None
    return results


def _first(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def _download_all(sources: Sequence[WheelSource], store: Store,
                        progress: Callable[[str], None]) -> dict[str, WheelManifest]:
    import asyncio

    import httpx

    results: dict[str, WheelManifest] = {}
    gate = asyncio.Semaphore(DOWNLOADS)

    async def one(client: httpx.AsyncClient, source: WheelSource) -> None:
        async with gate:
            temp, digest = await _download(client, source, store)
        try:
            progress(f"Downloaded {source.filename}")
            results[source.key] = await asyncio.to_thread(
                store.add_downloaded, temp, digest, source.filename)
        finally:
            temp.unlink(missing_ok=True)

    http2 = os.environ.get("GHOSTENV_HTTP2", "1") != "0"
    try:
        client = httpx.AsyncClient(http2=http2, follow_redirects=True,
                                   timeout=httpx.Timeout(30.0))
    except ImportError:  # h2 missing: HTTP/1.1 still works
        client = httpx.AsyncClient(follow_redirects=True, timeout=httpx.Timeout(30.0))
    async with client, asyncio.TaskGroup() as group:
        for source in sources:
            group.create_task(one(client, source))
    return results


async def _download(client: httpx.AsyncClient, source: WheelSource,
                    store: Store) -> tuple[Path, str]:
    """Stream one file into a store temp file while hashing; retries transient failures."""
    import asyncio
    import hashlib

    import httpx

    store.tmp.mkdir(parents=True, exist_ok=True)
    temp = store.tmp / f"dl-{os.getpid()}-{id(source)}-{source.filename}"
    for attempt in range(1, ATTEMPTS + 1):
        digest = hashlib.sha256()
        try:
            async with client.stream("GET", source.url) as response:
                if response.status_code != 200:
                    retry = response.status_code in (429, 500, 502, 503, 504)
                    if retry and attempt < ATTEMPTS:
                        await asyncio.sleep(0.2 * attempt)
                        continue
                    raise NetworkError(
                        f"{source.url}: HTTP {response.status_code} downloading "
                        f"{source.filename}", hint="check the index is reachable, or re-lock")
                with temp.open("wb") as handle:
                    async for chunk in response.aiter_bytes(1 << 16):
                        digest.update(chunk)
                        handle.write(chunk)
        except httpx.HTTPError as exc:
            temp.unlink(missing_ok=True)
            if attempt < ATTEMPTS:
                await asyncio.sleep(0.2 * attempt)
                continue
            raise NetworkError(f"{source.url}: {type(exc).__name__}: {exc}",
                               hint="check your connection and retry") from exc
        actual = digest.hexdigest()
        if source.sha256 is not None and actual != source.sha256.lower():
            temp.unlink(missing_ok=True)
            raise HashMismatchError(
                f"{source.filename}: sha256 mismatch: expected {source.sha256.lower()}, "
                f"got {actual}",
                hint="the download was corrupted or the file changed upstream; retry or re-lock")
        return temp, actual
    raise AssertionError("unreachable: the last attempt returns or raises")
