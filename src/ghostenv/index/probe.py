"""Unadvertised ``.metadata`` probing, and the Range-read fallback it races against.

A mixin of :class:`ghostenv.index.client.IndexClient` (kept apart so the client stays
small): it uses the client's ``_get``, semaphore, HTTP client and counters.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from ghostenv.errors import NetworkError

if TYPE_CHECKING:
    import httpx

    from ghostenv.index.models import DistFile


class MetadataProbe:
    """The probe state per host and the two metadata routes of a wheel."""

    _probe: dict[str, bool]  # host -> whether unadvertised .metadata works
    _probe_score: dict[str, tuple[int, int]]  # host -> (hits, misses)
    _grace: dict[str, float]  # host -> seconds a probe may take alone
    _sem: asyncio.Semaphore
    http: httpx.AsyncClient

    if TYPE_CHECKING:
        from ghostenv.index.client import Stats

        stats: Stats

        def _auth(self, url: str) -> tuple[str, httpx.Auth | None]: ...

        async def _get(self, url: str, headers: dict[str, str] | None = None,
                       *, ok: tuple[int, ...] = (200,)) -> httpx.Response: ...

    async def _range_metadata(self, file: DistFile) -> bytes:
        from ghostenv.wheel.remote import fetch_wheel_metadata

        async with self._sem:
            data, stats = await fetch_wheel_metadata(self.http, self._auth(file.url)[0])
        self.stats.requests += stats.requests
        self.stats.bytes += getattr(stats, "bytes", 0)
        return data

    async def _probe_or_range(self, file: DistFile, host: str) -> bytes:
        """The unadvertised ``.metadata``, raced against a Range read once it is late.

        On a mirror that serves ``.metadata`` only for files it has seen, a hit answers
        in one round trip but a miss can take 100 ms (it asks upstream first). So the
        probe gets a grace period (three times the slowest hit seen lately, 30-300 ms);
        past it a Range read starts too and the first answer wins, the other is
        cancelled. A late hit costs one wasted Range read; a miss no longer costs its
        full wait before the fallback even starts.
        """
        start = time.perf_counter()
        probe = asyncio.ensure_future(self._try_metadata(file))
        done, _ = await asyncio.wait({probe}, timeout=self._grace.get(host, 0.1))
        if not done:
            ranged = asyncio.ensure_future(self._range_metadata(file))
            done, _ = await asyncio.wait({probe, ranged}, return_when=asyncio.FIRST_COMPLETED)
            if probe in done and probe.result() is not None:
                ranged.cancel()
            else:
                if ranged not in done:  # the probe missed first: wait for the Range read
                    await asyncio.wait({ranged})
                answered = probe.done() and not probe.cancelled()
                probe.cancel()
                # a probe cut short said nothing about the host
                self._score(host, (probe.result() is not None) if answered else None)
                return ranged.result()
        data = probe.result()
        self._score(host, data is not None)
        if data is None:
            return await self._range_metadata(file)
        took = time.perf_counter() - start
        self._grace[host] = min(0.3, max(0.03, 3 * took, 0.8 * self._grace.get(host, 0.1)))
        return data

    def _score(self, host: str, hit: bool | None) -> None:
        """Keep probing a host only while it proves reliable.

        The first answer decides whether the host's other wheels are probed at all.
        A mirror may serve ``.metadata`` only for files it has already seen: when misses
        outnumber hits two to one (after a few tries), each probe is a wasted round trip
        before the Range read, so the host is switched to Range reads for this run.
        ``None``: the probe was cut short by the race, no evidence either way.
        """
        if hit is None:
            return
        if host not in self._probe:
            self._probe[host] = hit
        hits, misses = self._probe_score.get(host, (0, 0))
        hits, misses = hits + hit, misses + (not hit)
        self._probe_score[host] = (hits, misses)
        if misses >= 8 and misses > 2 * hits:
            self._probe[host] = False

    async def _try_metadata(self, file: DistFile) -> bytes | None:
        try:
            resp = await self._get(file.url + ".metadata")
        except NetworkError:
            return None
        if resp.status_code == 200 and resp.content.lstrip().startswith(b"Metadata-Version"):
            return resp.content
        return None


__all__ = ["MetadataProbe"]
