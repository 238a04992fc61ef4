"""A real package index on 127.0.0.1 for tests: PEP 503/691/658/714/592/700/629, Range, faults.

Why a hand-written server: every fallback in the index client (no JSON, no ``.metadata``, no
Range, flaky networks) must be exercised against real sockets, so each behaviour is a switch on
:class:`ServerOptions` that a test flips at runtime. The same handler also serves a directory
as-is (the packse static index), because ``python -m http.server`` does not answer Range.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import re
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.support.builder import BuildResult, BuiltFile, normalize

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
API_VERSION = "1.1"


@dataclass(slots=True)
class ServerOptions:
    """Switches of one server; mutate them at any time, the next request sees the change."""

    json: bool = True  # PEP 691 JSON offered on Accept
    metadata: bool = True  # PEP 658 .metadata files exist and are advertised
    metadata_unadvertised: bool = False  # files exist but pages do not say so
    range: bool = True  # honour Range; False answers 200 with the whole body
    latency: float = 0.0  # seconds slept before each answer
    fail_every: int = 0  # every Nth request answers fail_status
    fail_first: int = 0  # the first N requests answer fail_status (retry-then-succeed tests)
    fail_status: int = 500
    retry_after: int = 1  # Retry-After seconds sent with 429/503
    reset_every: int = 0  # every Nth request: connection reset without an answer
    truncate_every: int = 0  # every Nth request: full Content-Length, half the body
    fault_match: str = ""  # regex on the path: only matching requests count for faults


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    status: int
    bytes_sent: int


@dataclass(slots=True)
class _Range:
    start: int
    end: int  # inclusive


def parse_range(header: str, size: int) -> _Range | bool | None:
    """Parse a single ``bytes=`` range. None: ignore header; False: unsatisfiable (416)."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", header)
    if m is None:
        return None  # malformed or multi-range: serve the whole body (RFC 9110 allows it)
    first, last = m.group(1), m.group(2)
    if not first and not last:
        return None
    if not first:  # suffix
        n = int(last)
        if n == 0 or size == 0:
            return False
        return _Range(max(0, size - n), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return False
    return _Range(start, min(end, size - 1))


def _accepts_json(accept: str | None) -> bool:
    """Content negotiation: JSON only when it outranks HTML in *accept* (q-values honoured)."""
    if not accept:
        return False
    best: dict[str, float] = {}
    for order, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        q = 1.0
        for p in pieces[1:]:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        best[media] = max(best.get(media, 0.0), q - order * 1e-6)
    json_q = best.get(JSON_TYPE, 0.0)
    html_q = max(best.get(HTML_TYPE, 0.0), best.get("text/html", 0.0), best.get("*/*", 0.0))
    return json_q > 0 and json_q >= html_q


def _etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


class IndexServer(ThreadingHTTPServer):
    """Serves a :class:`BuildResult` under ``/simple/`` and ``/files/``, or a static directory."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # async clients open many connections at once

    def __init__(self, build: BuildResult | None = None, static_root: Path | None = None,
                 options: ServerOptions | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.build = build
        self.static_root = static_root
        self.options = options or ServerOptions()
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._count = 0
        self._thread: threading.Thread | None = None
        self.projects: dict[str, list[BuiltFile]] = build.projects() if build else {}
        self.files: dict[str, BuiltFile] = {f.filename: f for f in build.files} if build else {}

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up mid-response (a cancelled download, a test's timeout) are
        normal here; anything else is printed as socketserver would."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    # -- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    @property
    def simple_url(self) -> str:
        return self.url + "/simple/"

    @property
    def files_url(self) -> str:
        return self.url + "/files/"

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> IndexServer:
        """Serve in a daemon thread; idempotent, so ``with serve_build(...) as s:`` works."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self.serve_forever, name=f"index-{self.url}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self.shutdown()
            thread.join(timeout=5)
        self.server_close()

    def __enter__(self) -> IndexServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget logged requests and the fault counter (options stay as they are)."""
        with self._lock:
            self.requests.clear()
            self._count = 0

    def next_number(self) -> int:
        with self._lock:
            self._count += 1
            return self._count

    def log(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: IndexServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle(head=False)

    def do_HEAD(self) -> None:
        self._handle(head=True)

    # -- dispatch --------------------------------------------------------------------------
    def _handle(self, head: bool) -> None:
        opts = self.server.options
        if opts.latency:
            time.sleep(opts.latency)
        number = 0  # 0: this request is exempt from faults
        if not opts.fault_match or re.search(opts.fault_match, self.path):
            number = self.server.next_number()
        if number and opts.reset_every and number % opts.reset_every == 0:
            self._reset()
            return
        failing = bool(opts.fail_every and number % opts.fail_every == 0)
        if number and (failing or number <= opts.fail_first):
            extra = {}
            if opts.fail_status in (429, 503):
                extra["Retry-After"] = str(opts.retry_after)
            self._send(opts.fail_status, b"injected failure\n", "text/plain", head, extra=extra)
            return
        truncate = bool(number and opts.truncate_every and number % opts.truncate_every == 0)
        path = unquote(urlsplit(self.path).path)
        if self.server.static_root is not None:
            self._static(path, head, truncate)
        else:
            self._index(path, head, truncate)

    def _index(self, path: str, head: bool, truncate: bool) -> None:
        parts = [p for p in path.split("/") if p]
        if parts == ["simple"] and path.endswith("/"):
            self._page(self._root_page(), head, truncate)
        elif len(parts) == 2 and parts[0] == "simple":
            name = parts[1]
            if normalize(name) != name or not path.endswith("/"):
                self._redirect(f"/simple/{normalize(name)}/", head)
            elif name in self.server.projects:
                self._page(self._project_page(name), head, truncate)
            else:
                self._send(404, b"no such project\n", "text/plain", head)
        elif len(parts) == 2 and parts[0] == "files":
            self._file(parts[1], head, truncate)
        elif parts == ["simple"]:
            self._redirect("/simple/", head)
        else:
            self._send(404, b"not found\n", "text/plain", head)

    # -- pages -----------------------------------------------------------------------------
    def _root_page(self) -> tuple[bytes, bytes]:
        names = sorted(self.server.projects)
        doc = {"meta": {"api-version": API_VERSION},
               "projects": [{"name": n} for n in names]}
        body = "".join(f'    <a href="{n}/">{n}</a>\n' for n in names)
        page = ("<!DOCTYPE html>\n<html>\n  <head>\n"
                f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
                "    <title>Simple index</title>\n  </head>\n  <body>\n"
                f"{body}  </body>\n</html>\n")
        return page.encode(), json.dumps(doc, indent=1).encode()

    def _project_page(self, name: str) -> tuple[bytes, bytes]:
        opts = self.server.options
        files = self.server.projects[name]
        advertise = opts.metadata and not opts.metadata_unadvertised
        versions = sorted({f.version for f in files}, key=_version_key)
        jfiles: list[dict[str, Any]] = []
        anchors: list[str] = []
        for f in files:
            url = f"../../files/{f.filename}"
            entry: dict[str, Any] = {"filename": f.filename, "url": url,
                                     "hashes": {"sha256": f.sha256},
                                     "requires-python": f.requires_python,
                                     "size": f.size, "upload-time": f.upload_time,
                                     "yanked": f.yanked}
            attrs = [f'href="{url}#sha256={f.sha256}"']
            if f.requires_python:
                attrs.append(f'data-requires-python="{html.escape(f.requires_python)}"')
            if f.yanked is not False:
                reason = f.yanked if isinstance(f.yanked, str) else ""
                attrs.append(f'data-yanked="{html.escape(reason)}"')
            if advertise and f.metadata is not None:
                digest = {"sha256": f.metadata_sha256}
                entry["core-metadata"] = digest
                entry["dist-info-metadata"] = digest
                attrs.append(f'data-core-metadata="sha256={f.metadata_sha256}"')
                attrs.append(f'data-dist-info-metadata="sha256={f.metadata_sha256}"')
            jfiles.append(entry)
            anchors.append(f"    <a {' '.join(attrs)}>{html.escape(f.filename)}</a><br>\n")
        doc = {"meta": {"api-version": API_VERSION}, "name": name,
               "files": jfiles, "versions": versions}
        page = ("<!DOCTYPE html>\n<html>\n  <head>\n"
                f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
                f"    <title>Links for {name}</title>\n  </head>\n  <body>\n"
                f"    <h1>Links for {name}</h1>\n{''.join(anchors)}  </body>\n</html>\n")
        return page.encode(), json.dumps(doc, indent=1).encode()

    def _page(self, pages: tuple[bytes, bytes], head: bool, truncate: bool) -> None:
        html_body, json_body = pages
        want_json = self.server.options.json and _accepts_json(self.headers.get("Accept"))
        body, ctype = (json_body, JSON_TYPE) if want_json else (html_body, "text/html")
        etag = _etag(body)
        extra = {"ETag": etag, "Vary": "Accept", "Cache-Control": "max-age=0"}
        if self._not_modified(etag):
            self._send(304, b"", ctype, head, extra=extra)
            return
        self._send(200, body, ctype, head, extra=extra, truncate=truncate)

    # -- files -----------------------------------------------------------------------------
    def _file(self, filename: str, head: bool, truncate: bool) -> None:
        opts = self.server.options
        if filename.endswith(".metadata"):
            built = self.server.files.get(filename[: -len(".metadata")])
            if built is None or built.metadata is None or not opts.metadata:
                self._send(404, b"no metadata\n", "text/plain", head)
                return
            self._bytes(built.metadata, "application/octet-stream", head, truncate)
            return
        built = self.server.files.get(filename)
        if built is None:
            self._send(404, b"no such file\n", "text/plain", head)
            return
        self._bytes(built.path.read_bytes(), "application/octet-stream", head, truncate)

    def _static(self, path: str, head: bool, truncate: bool) -> None:
        root = self.server.static_root
        assert root is not None
        target = (root / path.lstrip("/")).resolve()
        if not target.is_relative_to(root.resolve()):
            self._send(404, b"not found\n", "text/plain", head)
            return
        if target.is_dir():
            if not path.endswith("/"):
                self._redirect(path + "/", head)
                return
            target = target / "index.html"
        if not target.is_file():
            self._send(404, b"not found\n", "text/plain", head)
            return
        ctype = "text/html" if target.suffix == ".html" else "application/octet-stream"
        self._bytes(target.read_bytes(), ctype, head, truncate)

    def _bytes(self, data: bytes, ctype: str, head: bool, truncate: bool) -> None:
        """Answer with *data*, honouring If-None-Match and (when enabled) a single Range."""
        etag = _etag(data)
        extra = {"ETag": etag, "Accept-Ranges": "bytes" if self.server.options.range else "none"}
        if self._not_modified(etag):
            self._send(304, b"", ctype, head, extra=extra)
            return
        header = self.headers.get("Range")
        if header and self.server.options.range:
            rng = parse_range(header, len(data))
            if rng is False:
                extra["Content-Range"] = f"bytes */{len(data)}"
                self._send(416, b"", ctype, head, extra=extra)
                return
            if isinstance(rng, _Range):
                extra["Content-Range"] = f"bytes {rng.start}-{rng.end}/{len(data)}"
                self._send(206, data[rng.start:rng.end + 1], ctype, head, extra=extra,
                           truncate=truncate)
                return
        self._send(200, data, ctype, head, extra=extra, truncate=truncate)

    # -- low level -------------------------------------------------------------------------
    def _not_modified(self, etag: str) -> bool:
        inm = self.headers.get("If-None-Match")
        if not inm:
            return False
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags

    def _redirect(self, location: str, head: bool) -> None:
        self._send(301, b"", "text/plain", head, extra={"Location": location})

    def _send(self, status: int, body: bytes, ctype: str, head: bool, *,
              extra: dict[str, str] | None = None, truncate: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        # Log before the body goes out: a client that has read the answer must find it logged.
        if truncate and not head and len(body) > 0:
            self.send_header("Connection", "close")
            part = body[: len(body) // 2]
            self._record(status, len(part))
            self.end_headers()
            self.wfile.write(part)
            self.wfile.flush()
            self.close_connection = True
        else:
            payload = b"" if head or status == 304 else body
            self._record(status, len(payload))
            self.end_headers()
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Close the socket with RST (SO_LINGER 0) before any answer."""
        self._record(0, 0)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.close()

    def _record(self, status: int, sent: int) -> None:
        self.server.log(RequestRecord(method=self.command, path=self.path,
                                      headers=dict(self.headers.items()),
                                      status=status, bytes_sent=sent))


def _version_key(version: str) -> Any:
    try:
        from packaging.version import Version

        return (0, Version(version))
    except ValueError:  # unparseable versions sort last, by text
        return (1, version)


def serve_build(build: BuildResult, **options: Any) -> IndexServer:
    """Start a server for *build* with the given switches; the caller stops it."""
    return IndexServer(build=build, options=ServerOptions(**options)).start()


def serve_directory(root: Path, **options: Any) -> IndexServer:
    """Serve *root* as-is (static files, ``index.html`` for directories) with Range support."""
    return IndexServer(static_root=root, options=ServerOptions(**options)).start()


def iter_paths(server: IndexServer) -> Iterable[str]:
    """The logged request paths, in order (handy in assertions)."""
    return [r.path for r in list(server.requests)]


if __name__ == "__main__":  # manual use: python -m tests.support.index_server [DIR]
    import sys

    from tests.support.builder import DEFAULT_BUILD_DIR, build_all

    srv = (serve_directory(Path(sys.argv[1])) if len(sys.argv) > 1
           else serve_build(build_all(DEFAULT_BUILD_DIR)))
    print(srv.simple_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()
        os._exit(0)
