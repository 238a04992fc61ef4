"""Pages without validators under a keyed pick (peek on the PyPI mirror): stored as a digest,
compared by digest when refetched, served offline from the stored pick."""

from __future__ import annotations

import asyncio
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.cache import HttpCache
from ghostenv.index.client import IndexClient


class _Pages(http.server.BaseHTTPRequestHandler):
    """text/html simple pages with no ETag, no Last-Modified, no Cache-Control."""

    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _page(*versions: str) -> bytes:
    anchors = "".join(f'<a href="/files/pkg-{v}.tar.gz#sha256={"ab" * 32}">pkg-{v}.tar.gz</a>\n'
                      for v in versions)
    return f"<!DOCTYPE html><html><body>\n{anchors}</body></html>".encode()


@pytest.fixture
def pages() -> Iterator[tuple[str, type[_Pages]]]:
    handler = type("Handler", (_Pages,), {"body": _page("1.0", "2.0")})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/", handler
    server.shutdown()
    server.server_close()


def test_a_page_without_validators_is_stored_as_its_digest(pages: tuple[str, Any],
                                                           tmp_path: Path) -> None:
    url, handler = pages
    cache_dir = tmp_path / "cache"
    calls: list[int] = []

    def newest(named: list[tuple[str, bool]]) -> set[str]:
        calls.append(len(named))
        return {named[-1][0]}

    async def go(**kwargs: Any) -> Any:
        async with IndexClient(url, cache_dir=cache_dir, retries=0, prefer_html=True,
                               **kwargs) as client:
            return await client.project("pkg", pick=newest, pick_key="test-newest")

    first = run(go())
    assert [f.filename for f in first.files] == ["pkg-2.0.tar.gz"]
    cache = HttpCache(cache_dir)
    stored = cache.get_page(url + "pkg/", "html")
    assert stored is not None
    assert not stored.has_body
    assert stored.body == b""
    entry = cache._page_path(url + "pkg/", "html")
    assert entry.stat().st_size < 400  # headers only, not the page
    before = entry.stat().st_mtime_ns

    second = run(go())  # same bytes again: compared by digest, not scanned, not rewritten
    assert second.files == first.files
    assert len(calls) == 1
    assert entry.stat().st_mtime_ns == before

    offline = run(go(offline=True))  # the stored pick, no request
    assert offline.files == first.files

    async def unpicked() -> Any:
        async with IndexClient(url, cache_dir=cache_dir, offline=True, prefer_html=True) as c:
            return await c.project("pkg")

    with pytest.raises(NetworkError):  # a body-less entry cannot serve a whole page
        run(unpicked())

    handler.body = _page("1.0", "2.0", "3.0")  # the page changes: scanned again
    third = run(go())
    assert [f.filename for f in third.files] == ["pkg-3.0.tar.gz"]
    assert len(calls) == 2
    assert cache.get_page(url + "pkg/", "html").digest != stored.digest  # type: ignore[union-attr]

    shutil.rmtree(cache_dir / "http-v1" / "derived")  # the pick is gone
    with pytest.raises(NetworkError):
        run(go(offline=True))
    assert [f.filename for f in run(go()).files] == ["pkg-3.0.tar.gz"]  # refetched, rescanned
    assert len(calls) == 3


def run(coro: Any) -> Any:
    return asyncio.run(coro)
