"""The HTTP transport under :class:`ghostenv.index.client.IndexClient`: httpx over asyncio streams.

Why not httpx's default: on a fast network the cost of a page is CPU, not waiting. A warm
peek of the top 100 projects moves 47-62 MB of simple pages that the mirror sends with no
validators, and curl fetches them over one HTTP/2 connection in 0.2 s of wall time, while
httpx's default stack needed 0.6-0.9 s of CPU for the same bytes. Measured causes, each
removed here:

* anyio's TLS stream hands httpcore one TLS record (16 KiB) per read, so every 16 KiB
  crosses httpcore, anyio (a cancel scope, a lock, ``current_task``) and the h2 state
  machine. asyncio's own TLS transport decrypts whatever arrived in one go (up to 256 KiB
  a read): :class:`AsyncioBackend` gives httpcore those streams instead.
* HTTP/2 frames default to 16 KiB. The client may announce up to 16 MiB
  (``SETTINGS_MAX_FRAME_SIZE``); at 1 MiB the server sends a page in a few frames, so h2
  parses and acknowledges ~60x fewer of them.
* h2 formats ``repr(frame)`` for a trace log of every frame it receives, even with
  logging off, and a DATA frame's repr hex-encodes its whole payload to keep 20 characters
  (~40-60 ms for 50 MB). :func:`_short_data_repr` encodes only those 10 bytes: the same text.

The last two touch httpcore/hyperframe internals, so each is applied only when the
attribute it replaces has the expected shape; otherwise the library's own behaviour stays
(slower, never wrong). ``GHOSTENV_HTTP_TUNING=0`` turns all of it off to compare.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

#: announced to HTTP/2 servers as SETTINGS_MAX_FRAME_SIZE (RFC 9113 allows 16 KiB - 16 MiB)
FRAME_SIZE = 1 << 20
#: bytes httpcore asks for per read (a read returns what has arrived, up to this)
READ_SIZE = 1 << 20
#: asyncio's StreamReader pauses the socket when its buffer holds twice this much
_BUFFER_LIMIT = 4 << 20


def tuning_enabled() -> bool:
    return os.environ.get("GHOSTENV_HTTP_TUNING", "1") != "0"


class _Stream(httpcore.AsyncNetworkStream):
    """One TCP (or TLS over TCP) connection as asyncio streams, with httpcore's errors."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading from the server") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out writing to the server") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            async with asyncio.timeout(1.0):
                await self._writer.wait_closed()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            await self.aclose()
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # asyncio reads the socket all along: a server that closed an idle keep-alive
            # connection shows as EOF (or an error) on the reader already
            return self._reader.at_eof() or self._reader.exception() is not None
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        return self._writer.get_extra_info(name)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend on asyncio streams (TLS by asyncio's ssl transport)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None,
                          ) -> httpcore.AsyncNetworkStream:
        _patch_libraries()  # at the first connection: h2 is not imported before it's needed
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, limit=_BUFFER_LIMIT,
                    local_addr=(local_address, 0) if local_address else None)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for option in socket_options or ():
                    sock.setsockopt(*option)
        return _Stream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None,
                                  ) -> httpcore.AsyncNetworkStream:
        _patch_libraries()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path, limit=_BUFFER_LIMIT)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {path}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Stream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _short_data_repr(data: bytes | None) -> str:
    """hyperframe's ``_raw_data_repr`` text, hex-encoding only the 10 bytes it shows."""
    import binascii

    if not data:
        return "None"
    r = binascii.hexlify(data[:11]).decode("ascii")
    if len(r) > 20:
        r = r[:20] + "..."
    return "<hex:" + r + ">"


_patched = False


def _patch_libraries() -> None:
    """Big HTTP/2 frames and reads, and a cheap DATA frame repr (see the module doc)."""
    global _patched  # noqa: PLW0603 - once per process
    if _patched:
        return
    _patched = True
    import h2.settings
    from hyperframe import frame as hyperframe_frame

    if callable(getattr(hyperframe_frame, "_raw_data_repr", None)):
        hyperframe_frame._raw_data_repr = _short_data_repr
    try:
        from httpcore._async.http2 import AsyncHTTP2Connection
    except ImportError:  # pragma: no cover - a httpcore without this layout
        return
    if isinstance(getattr(AsyncHTTP2Connection, "READ_NUM_BYTES", None), int):
        AsyncHTTP2Connection.READ_NUM_BYTES = READ_SIZE
    original = getattr(AsyncHTTP2Connection, "_send_connection_init", None)
    if original is None or not asyncio.iscoroutinefunction(original):
        return

    async def send_connection_init(self: Any, request: Any) -> None:
        await original(self, request)
        # after the library's own preamble went out: announce big frames in a second
        # SETTINGS frame, and accept them at once (the server may use the new size as
        # soon as it has read our SETTINGS, before we read its acknowledgement)
        state = self._h2_state
        state.update_settings({h2.settings.SettingCodes.MAX_FRAME_SIZE: FRAME_SIZE})
        state.max_inbound_frame_size = FRAME_SIZE
        state.incoming_buffer.max_frame_size = FRAME_SIZE
        await self._write_outgoing_data(request)

    AsyncHTTP2Connection._send_connection_init = send_connection_init  # type: ignore[method-assign]


def make_transport(*, http2: bool, verify: ssl.SSLContext, limits: httpx.Limits,
                   http1: bool = True) -> httpx.AsyncHTTPTransport:
    """httpx's transport, with connections from :class:`AsyncioBackend` when tuning is on.

    ``http1=False`` speaks HTTP/2 with prior knowledge, also over plain TCP (tests).
    """
    transport = httpx.AsyncHTTPTransport(http1=http1, http2=http2, verify=verify,
                                         limits=limits)
    if not tuning_enabled() or not isinstance(getattr(transport, "_pool", None),
                                              httpcore.AsyncConnectionPool):
        return transport
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=verify, max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry, http1=http1, http2=http2,
        network_backend=AsyncioBackend(),
    )
    return transport


__all__ = ["AsyncioBackend", "make_transport"]
