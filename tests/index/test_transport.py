"""The transport under IndexClient (asyncio streams, big HTTP/2 frames) and the HTML dialect
that peek asks for: real servers on 127.0.0.1, real sockets."""

from __future__ import annotations

import asyncio
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import httpx
import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.client import ACCEPT_HTML, IndexClient
from ghostenv.index.transport import FRAME_SIZE, _short_data_repr, make_transport


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_short_data_repr_is_the_same_text_as_hyperframes() -> None:
    from hyperframe import frame

    original = frame._raw_data_repr
    if original is _short_data_repr:  # already swapped in by an earlier client
        import binascii

        def original(data: bytes | None) -> str:
            if not data:
                return "None"
            r = binascii.hexlify(data).decode("ascii")
            return "<hex:" + (r[:20] + "..." if len(r) > 20 else r) + ">"
    for data in (None, b"", b"a", b"0123456789", b"0123456789a", bytes(range(256)) * 400):
        assert _short_data_repr(data) == original(data)


class _H2Server:
    """A plain-TCP HTTP/2 server (prior knowledge) that answers every GET with ``body``,
    in DATA frames as big as the client allows, and records the client's settings."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.client_frame_size = 0
        self.frame_sizes: list[int] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        pending: dict[int, int] = {}  # stream -> bytes of the body already sent
        while data := await reader.read(65536):
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged):
                    size = event.changed_settings.get(h2.settings.SettingCodes.MAX_FRAME_SIZE)
                    if size is not None:
                        self.client_frame_size = size.new_value
                elif isinstance(event, h2.events.RequestReceived):
                    conn.send_headers(event.stream_id, [
                        (":status", "200"), ("content-type", "text/html"),
                        ("content-length", str(len(self.body)))])
                    pending[event.stream_id] = 0
            for stream_id, already in list(pending.items()):
                sent = already
                while sent < len(self.body):
                    room = min(conn.local_flow_control_window(stream_id),
                               conn.max_outbound_frame_size, len(self.body) - sent)
                    if room <= 0:
                        break
                    conn.send_data(stream_id, self.body[sent:sent + room],
                                   end_stream=sent + room == len(self.body))
                    self.frame_sizes.append(room)
                    sent += room
                pending[stream_id] = sent
                if sent == len(self.body):
                    del pending[stream_id]
            writer.write(conn.data_to_send())
            await writer.drain()
        writer.close()


def _h2_fetch(body: bytes, count: int) -> tuple[_H2Server, list[bytes]]:
    server = _H2Server(body)

    async def go() -> list[bytes]:
        srv = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        import ssl

        transport = make_transport(http2=True, verify=ssl.create_default_context(),
                                   limits=httpx.Limits(max_connections=10), http1=False)
        async with httpx.AsyncClient(transport=transport) as client:
            async def one(i: int) -> bytes:
                resp = await client.get(f"http://127.0.0.1:{port}/p/{i}")
                assert resp.http_version == "HTTP/2"
                return resp.content
            bodies = await asyncio.gather(*(one(i) for i in range(count)))
        srv.close()
        for writer in server.writers:
            writer.close()
            await writer.wait_closed()
        await srv.wait_closed()
        return list(bodies)

    return server, run(go())


def test_http2_bodies_arrive_whole_in_big_frames() -> None:
    body = bytes(range(256)) * 12_000  # 3 MB, not a multiple of any frame size
    server, bodies = _h2_fetch(body, 5)
    assert all(b == body for b in bodies)
    assert server.client_frame_size == FRAME_SIZE
    assert max(server.frame_sizes) > 16_384  # the library default would cap frames here


def test_http2_without_tuning_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHOSTENV_HTTP_TUNING", "0")
    body = b"x" * 100_000
    _, bodies = _h2_fetch(body, 2)
    assert bodies == [body, body]


# -- the HTML dialect (peek) ------------------------------------------------------------


def test_prefer_html_asks_text_html_and_keeps_its_pages_apart(fixture_index: Any,
                                                              tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    async def page(**kwargs: Any) -> Any:
        async with IndexClient(fixture_index.simple_url, cache_dir=cache, retries=0,
                               **kwargs) as client:
            return await client.project("alpha")

    html = run(page(prefer_html=True))
    assert fixture_index.requests[-1].headers.get("Accept") == ACCEPT_HTML
    assert not html.versions  # PEP 700 `versions` exists only in JSON: HTML it was
    assert any(f.filename == "alpha-1.1.0-py3-none-any.whl" for f in html.files)
    # a JSON-first client never gets peek's HTML page from the cache
    with pytest.raises(NetworkError):
        run(page(offline=True))
    assert run(page(offline=True, prefer_html=True)).files == html.files

    async def offline_client() -> IndexClient:
        async with IndexClient(fixture_index.simple_url, cache_dir=cache, offline=True,
                               prefer_html=True) as client:
            await client.project("alpha")
            return client

    assert run(offline_client())._http is None  # no CA bundle, no pool: nothing to fetch
    full = run(page())
    assert full.versions
    assert run(page(offline=True)).files == full.files


class _Refuses406(http.server.BaseHTTPRequestHandler):
    """Answers 406 to an Accept without JSON, else a one-file PEP 691 page."""

    def do_GET(self) -> None:
        if "json" not in self.headers.get("Accept", ""):
            self.send_response(406)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = (b'{"meta": {"api-version": "1.1"}, "name": "alpha", "versions": ["1.0"], '
                b'"files": [{"filename": "alpha-1.0.tar.gz", "url": "alpha-1.0.tar.gz", '
                b'"hashes": {}}]}')
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refuses406)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()
    server.server_close()


def test_a_server_refusing_html_is_asked_again_for_json(refusing_server: str) -> None:
    async def go() -> Any:
        async with IndexClient(refusing_server, retries=0, prefer_html=True) as client:
            return await client.project("alpha")

    page = run(go())
    assert [f.filename for f in page.files] == ["alpha-1.0.tar.gz"]
    assert page.versions == ("1.0",)
