"""The HTTP cache against the fixture server: 304 revalidation, offline, corrupt entries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.cache import HttpCache, max_age_of
from ghostenv.index.client import IndexClient


async def _peek(client: IndexClient, names: list[str]) -> list[Any]:
    async with client:
        pages = await asyncio.gather(*(client.project(n) for n in names))
        wheels = [next(f for f in p.files if f.is_wheel) for p in pages]
        return list(await asyncio.gather(*(client.metadata(w) for w in wheels)))


NAMES = ["alpha", "beta", "gamma"]


def test_warm_cache_revalidates_pages_and_never_refetches_metadata(
        make_index: Any, tmp_path: Path) -> None:
    server = make_index()
    cold = IndexClient(server.simple_url, cache_dir=tmp_path)
    asyncio.run(_peek(cold, NAMES))
    assert cold.stats.requests == 6
    server.reset()
    warm = IndexClient(server.simple_url, cache_dir=tmp_path)
    metas = asyncio.run(_peek(warm, NAMES))
    assert [m.name.lower() for m in metas] == NAMES
    assert warm.stats.revalidated == 3
    assert [r.status for r in server.requests] == [304, 304, 304]
    assert all("If-None-Match" in r.headers for r in server.requests)


def test_offline_uses_cache_and_fails_clearly_without(make_index: Any, tmp_path: Path) -> None:
    server = make_index()
    asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path), ["alpha"]))
    server.reset()
    metas = asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path,
                                          offline=True), ["alpha"]))
    assert metas[0].name == "alpha"
    assert server.requests == []
    with pytest.raises(NetworkError, match="beta"):
        asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path, offline=True),
                          ["beta"]))


def test_refresh_refetches_without_validators(make_index: Any, tmp_path: Path) -> None:
    server = make_index()
    asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path), ["alpha"]))
    server.reset()
    asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path, refresh=True),
                      ["alpha"]))
    assert [r.status for r in server.requests] == [200]
    assert "If-None-Match" not in server.requests[0].headers


def test_corrupt_entries_are_discarded_and_refetched(make_index: Any, tmp_path: Path) -> None:
    server = make_index()
    asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path), ["alpha"]))
    entries = [p for p in (tmp_path / "http-v1").rglob("*")
               if p.is_file() and not p.name.endswith(".lock")]
    assert len(entries) == 2
    for path in entries:
        path.write_bytes(path.read_bytes()[:20])
    server.reset()
    metas = asyncio.run(_peek(IndexClient(server.simple_url, cache_dir=tmp_path), ["alpha"]))
    assert metas[0].name == "alpha"
    assert [r.status for r in server.requests] == [200, 200]


def test_max_age_is_honoured(tmp_path: Path) -> None:
    assert max_age_of("public, max-age=600") == 600
    assert max_age_of("no-cache, max-age=600") == 0
    assert max_age_of(None) == 0
    cache = HttpCache(tmp_path)
    from ghostenv.index.cache import CachedPage

    page = CachedPage("http://x/simple/a/", b"<html></html>", "text/html", None, None,
                      1000.0, 600)
    cache.put_page(page)
    got = cache.get_page("http://x/simple/a/")
    assert got == page
    assert got.fresh(1500.0)
    assert not got.fresh(1700.0)
    stored = next(p for p in (tmp_path / "http-v1").rglob("*")
                  if p.is_file() and not p.name.endswith(".lock"))
    header = json.loads(stored.read_bytes().split(b"\n")[0])
    assert header["length"] == len(page.body)
