"""Remote METADATA reads against the real fixture index server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from ghostenv.errors import NetworkError, WheelError
from ghostenv.wheel import read_local_metadata, remote
from ghostenv.wheel.remote import FetchStats, fetch_wheel_metadata
from tests.conftest import run_ghostenv
from tests.support.index_server import serve_directory
from tests.wheel.helpers import make_wheel


def fetch(url: str, **kw: Any) -> tuple[bytes, FetchStats]:
    async def go() -> tuple[bytes, FetchStats]:
        async with httpx.AsyncClient() as client:
            return await fetch_wheel_metadata(client, url, **kw)
    return asyncio.run(go())


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "BACKOFF", 0.01)


@pytest.fixture
def big_wheel(fixture_wheels: Path) -> Path:
    return next(fixture_wheels.glob("zeta_big-*.whl"))


def test_pep658_file_is_one_request(fixture_index: Any, big_wheel: Path) -> None:
    data, stats = fetch(fixture_index.files_url + big_wheel.name, metadata_available=True)
    assert data == read_local_metadata(big_wheel)[0]
    assert stats.requests == 1
    assert stats.source == "pep658"


def test_missing_pep658_file_falls_back_to_range(fixture_index: Any, big_wheel: Path) -> None:
    fixture_index.options.metadata = False
    data, stats = fetch(fixture_index.files_url + big_wheel.name, metadata_available=True)
    assert data == read_local_metadata(big_wheel)[0]
    assert stats.source == "range"
    assert stats.requests <= 4  # 404 + at most 3 ranges


def test_range_reads_few_bytes(fixture_index: Any, big_wheel: Path) -> None:
    data, stats = fetch(fixture_index.files_url + big_wheel.name)
    assert data == read_local_metadata(big_wheel)[0]
    assert stats.source == "range"
    assert stats.requests <= 3
    assert stats.file_size == big_wheel.stat().st_size
    ranges = [r.headers.get("Range") or r.headers.get("range") for r in fixture_index.requests]
    assert ranges[0] == f"bytes=-{remote.SUFFIX}"
    assert all(ranges)


def test_server_ignoring_range_streams_until_metadata(tmp_path: Path) -> None:
    """A 200 answer to Range: stop reading once METADATA has streamed past."""
    path = tmp_path / "demo_pkg-1.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("demo_pkg-1.2.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.0\n")
        zf.writestr("demo_pkg/pad.bin", os.urandom(3_000_000))
    with serve_directory(tmp_path, range=False) as server:
        data, stats = fetch(f"{server.url}/{path.name}")
    assert data == read_local_metadata(path)[0]
    assert stats.source == "stream"
    assert stats.requests == 1
    assert stats.bytes < 1_000_000


def test_server_ignoring_range_full_download_with_descriptors(tmp_path: Path) -> None:
    """Data descriptors hide sizes from local headers: read it all, then parse."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.buf = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Any) -> int:
            self.buf += b
            return len(b)

    sink = Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        with zf.open("demo_pkg-1.2.0.dist-info/METADATA", "w") as fh:
            fh.write(b"Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.0\n")
        zf.writestr("demo_pkg/pad.bin", os.urandom(500_000))
    path = tmp_path / "demo_pkg-1.2.0-py3-none-any.whl"
    path.write_bytes(bytes(sink.buf))
    with serve_directory(tmp_path, range=False) as server:
        data, stats = fetch(f"{server.url}/{path.name}")
    assert data == read_local_metadata(path)[0]
    assert stats.source == "full"
    assert stats.bytes == path.stat().st_size


def test_fixture_index_without_range(fixture_index: Any, big_wheel: Path) -> None:
    fixture_index.options.range = False
    data, stats = fetch(fixture_index.files_url + big_wheel.name)
    assert data == read_local_metadata(big_wheel)[0]
    assert stats.source in {"stream", "full"}
    assert stats.requests == 1


def test_directory_larger_than_the_suffix(tmp_path: Path) -> None:
    """15,000 entries: the directory needs a second range, METADATA a third."""
    blobs = {f"demo_pkg/m/{i:05}.py": b"" for i in range(15_000)}
    wheel = make_wheel(tmp_path, entries=blobs)
    (tmp_path / "p").mkdir()
    padded = tmp_path / "p" / wheel.name
    with zipfile.ZipFile(padded, "w") as zf:  # 300 kB between METADATA and the directory
        for name, blob in blobs.items():
            zf.writestr(name, blob)
        zf.writestr("demo_pkg-1.2.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.0\n")
        zf.writestr("demo_pkg/big.bin", os.urandom(300_000))
    (tmp_path / "f").mkdir()
    first = tmp_path / "f" / wheel.name
    with zipfile.ZipFile(first, "w") as zf:  # METADATA record far from the tail
        zf.writestr("demo_pkg-1.2.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.2.0\n")
        for name, blob in blobs.items():
            zf.writestr(name, blob)
    # METADATA right before the directory: one coalesced range; far from it: two
    # concurrent ranges; its record outside the tail: directory, then member.
    expected = {wheel: 2, padded: 3, first: 3}
    with serve_directory(tmp_path) as server:
        for path, requests in expected.items():
            rel = path.relative_to(tmp_path).as_posix()
            data, stats = fetch(f"{server.url}/{rel}")
            assert data == read_local_metadata(path)[0]
            assert stats.requests == requests, rel
            assert stats.bytes < path.stat().st_size


def test_small_wheel_is_one_request(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with serve_directory(tmp_path) as server:
        data, stats = fetch(f"{server.url}/{wheel.name}")
    assert data == read_local_metadata(wheel)[0]
    assert stats.requests == 1


def test_retries_5xx_then_succeeds(fixture_index: Any, big_wheel: Path,
                                   fast_retries: None) -> None:
    fixture_index.options.fail_first = 2
    fixture_index.options.fail_status = 503
    data, stats = fetch(fixture_index.files_url + big_wheel.name)
    assert data == read_local_metadata(big_wheel)[0]
    assert stats.requests >= 3


def test_retries_429_and_resets(fixture_index: Any, big_wheel: Path,
                                fast_retries: None) -> None:
    fixture_index.options.fail_every = 2
    fixture_index.options.fail_status = 429
    assert fetch(fixture_index.files_url + big_wheel.name)[0]
    fixture_index.options.fail_every = 0
    fixture_index.options.reset_every = 2
    assert fetch(fixture_index.files_url + big_wheel.name)[0]


def test_persistent_500_is_a_network_error(fixture_index: Any, big_wheel: Path,
                                           fast_retries: None) -> None:
    fixture_index.options.fail_every = 1
    with pytest.raises(NetworkError, match="HTTP 500 after 5 attempts"):
        fetch(fixture_index.files_url + big_wheel.name)


def test_truncated_bodies_are_a_network_error(fixture_index: Any, big_wheel: Path,
                                              fast_retries: None) -> None:
    fixture_index.options.truncate_every = 1
    with pytest.raises(NetworkError):
        fetch(fixture_index.files_url + big_wheel.name)


def test_404_fails_at_once(fixture_index: Any) -> None:
    with pytest.raises(NetworkError, match="HTTP 404"):
        fetch(fixture_index.files_url + "nope-1.0-py3-none-any.whl")
    assert len(fixture_index.requests) == 1


def test_remote_unsafe_wheel_is_rejected(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, entries={"../evil.py": b"x"})
    with serve_directory(tmp_path) as server, pytest.raises(WheelError, match="escapes"):
        fetch(f"{server.url}/{wheel.name}")


def test_cli_on_url_reports_requests(fixture_index: Any, big_wheel: Path) -> None:
    url = fixture_index.files_url + big_wheel.name
    doc = json.loads(run_ghostenv("-v", "wheel-meta", url, "--json", check=True).stdout)
    assert doc["name"] == "zeta-big"
    assert doc["io"]["requests"] <= 3
    assert doc["io"]["bytes_transferred"] < big_wheel.stat().st_size
    text = run_ghostenv("-v", "wheel-meta", url, check=True).stdout
    assert "Requests: " in text


def test_cli_on_missing_url(fixture_index: Any) -> None:
    proc = run_ghostenv("wheel-meta", fixture_index.files_url + "nope-1.0-py3-none-any.whl")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ")
    assert "HTTP 404" in proc.stderr


def test_zip_stored_metadata_over_range(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, compression=zipfile.ZIP_STORED,
                       entries={"demo_pkg/pad.bin": os.urandom(200_000)})
    with serve_directory(tmp_path) as server:
        data, stats = fetch(f"{server.url}/{wheel.name}")
    assert data == read_local_metadata(wheel)[0]
    assert stats.requests == 1  # METADATA is written last: inside the suffix


def test_cli_pep658_flag_uses_the_metadata_file(fixture_index: Any, big_wheel: Path) -> None:
    url = fixture_index.files_url + big_wheel.name
    doc = json.loads(run_ghostenv("-v", "wheel-meta", url, "--pep658", "--json",
                                  check=True).stdout)
    assert doc["io"]["requests"] == 1
    assert doc["io"]["source"] == "pep658"
    assert [r.path for r in fixture_index.requests][-1].endswith(".whl.metadata")
