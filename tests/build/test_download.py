"""Build downloads authenticate like the index client: URL credentials or ~/.netrc."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ghostenv.build.download import download
from ghostenv.errors import HashMismatchError, NetworkError

BODY = b"sdist bytes"
TOKEN = "Basic " + base64.b64encode(b"alice:s3cret").decode()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != TOKEN:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="x"')
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def private_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_netrc_credentials(private_server: str, tmp_path: Path,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://{private_server}/files/p-1.0.tar.gz"
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    with pytest.raises(NetworkError, match="HTTP 401"):
        download(url, tmp_path / "a", filename="p-1.0.tar.gz")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login alice password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    download(url, tmp_path / "b", filename="p-1.0.tar.gz",
             sha256=hashlib.sha256(BODY).hexdigest())
    assert (tmp_path / "b").read_bytes() == BODY


def test_url_credentials_and_hash_check(private_server: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "none"))
    url = f"http://alice:s3cret@{private_server}/files/p-1.0.tar.gz"
    download(url, tmp_path / "ok", filename="p-1.0.tar.gz")
    assert (tmp_path / "ok").read_bytes() == BODY
    with pytest.raises(HashMismatchError, match=r"p-1\.0\.tar\.gz: sha256 mismatch"):
        download(url, tmp_path / "bad", filename="p-1.0.tar.gz", sha256="0" * 64)
    assert not (tmp_path / "bad").exists()
    assert not list(tmp_path.glob(".bad.*"))  # no partial file left behind
