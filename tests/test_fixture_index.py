"""The fixture index: builder reproducibility and every server feature, over real HTTP."""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from packaging.metadata import Metadata

from tests.support.builder import BuildResult, build_all, load_specs
from tests.support.index_plugin import packse_dir
from tests.support.index_server import JSON_TYPE, IndexServer, parse_range, serve_build

MakeIndex = Callable[..., IndexServer]
BIG = "zeta_big-1.0.0-py3-none-any.whl"
BETA = "beta-1.0.0-py3-none-any.whl"


def _get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, follow_redirects=False, timeout=10)


def _json_page(server: IndexServer, name: str) -> dict[str, object]:
    r = _get(server.simple_url + f"{name}/", Accept=JSON_TYPE)
    assert r.headers["content-type"] == JSON_TYPE
    doc: dict[str, object] = r.json()
    return doc


def _json_files(server: IndexServer, name: str) -> dict[str, dict[str, object]]:
    files = _json_page(server, name)["files"]
    assert isinstance(files, list)
    return {f["filename"]: f for f in files}


# -- builder --------------------------------------------------------------------------------


def test_rebuild_is_byte_identical(tmp_path: Path, fixture_build: BuildResult) -> None:
    again = build_all(tmp_path / "again")
    first = {f.filename: f.path.read_bytes() for f in fixture_build.files}
    second = {f.filename: f.path.read_bytes() for f in again.files}
    assert first.keys() == second.keys()
    assert first == second


def test_fixture_set_covers_the_promised_cases(fixture_build: BuildResult) -> None:
    names = {f.filename for f in fixture_build.files}
    assert "alpha-2.0.0b1-py3-none-any.whl" in names  # prerelease
    assert "gamma-1.0.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" in names
    assert "gamma-1.0.0-py3-none-any.whl" in names
    assert {n for n in names if n.startswith("delta-")} == {"delta-0.5.0.tar.gz",
                                                           "delta-0.6.0.tar.gz"}
    assert fixture_build.by_filename("beta-1.1.0.tar.gz").yanked == "broken import, use 1.2.0"
    assert fixture_build.by_filename("gamma-0.5.0.tar.gz").yanked is True
    assert fixture_build.by_filename("beta-2.0.0rc1.tar.gz").requires_python == ">=3.99"
    with zipfile.ZipFile(fixture_build.by_filename(BIG).path) as zf:
        assert len(zf.infolist()) > 2000
    assert len(load_specs()) == len({(f.project, f.version) for f in fixture_build.files})


def test_wheels_are_well_formed(fixture_build: BuildResult) -> None:
    for built in fixture_build.files:
        if not built.filename.endswith(".whl"):
            continue
        with zipfile.ZipFile(built.path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
            dist_info = next(n for n in names if n.endswith(".dist-info/RECORD")).rsplit("/", 1)[0]
            assert names[-1] == f"{dist_info}/RECORD"
            assert built.filename.startswith(dist_info.removesuffix(".dist-info") + "-")
            rows = list(csv.reader(io.StringIO(zf.read(f"{dist_info}/RECORD").decode())))
            assert sorted(r[0] for r in rows) == sorted(names)
            for path, digest, size in rows:
                if path.endswith("RECORD"):
                    continue
                data = zf.read(path)
                want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == "sha256=" + want.decode()
                assert int(size) == len(data)
            meta_bytes = zf.read(f"{dist_info}/METADATA")
            assert meta_bytes == built.metadata
            meta = Metadata.from_email(meta_bytes)
            assert meta.metadata_version == "2.3"
            assert str(meta.version) == built.version
            wheel = zf.read(f"{dist_info}/WHEEL").decode()
            assert "Wheel-Version: 1.0" in wheel


def test_alpha_metadata_has_deps_markers_and_extras(fixture_build: BuildResult) -> None:
    data = fixture_build.by_filename("alpha-1.1.0-py3-none-any.whl").metadata
    assert data is not None
    meta = Metadata.from_email(data)
    assert meta.requires_python is not None
    assert str(meta.requires_python) == ">=3.8"
    reqs = {str(r) for r in meta.requires_dist or []}
    assert "beta>=1.1" in reqs
    assert 'gamma; python_version < "4"' in reqs
    assert 'delta>=0.5; extra == "fast"' in reqs
    assert {str(e) for e in meta.provides_extra or []} == {"docs", "fast"}


def test_entry_points_and_data_scripts(fixture_build: BuildResult) -> None:
    wheel = fixture_build.by_filename("epsilon_tool-1.0.0-py3-none-any.whl").path
    with zipfile.ZipFile(wheel) as zf:
        eps = zf.read("epsilon_tool-1.0.0.dist-info/entry_points.txt").decode()
        assert "[console_scripts]\nepsilon-tool = epsilon_tool:main\n" in eps
        info = zf.getinfo("epsilon_tool-1.0.0.data/scripts/epsilon-data-script")
        assert (info.external_attr >> 16) & 0o111
        assert zf.read("epsilon_tool/resource.txt") == b"payload\n"


def test_sdists_are_deterministic_archives(fixture_build: BuildResult) -> None:
    built = fixture_build.by_filename("alpha-1.1.0.tar.gz")
    raw = built.path.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip MTIME
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tf:
        members = tf.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert all(m.mtime == 315532800 and m.uid == 0 and m.gid == 0 for m in members)
        pkg_info = tf.extractfile("alpha-1.1.0/PKG-INFO")
        assert pkg_info is not None
        meta = Metadata.from_email(pkg_info.read())
        assert meta.metadata_version == "2.2"
        assert meta.name == "alpha"
        pyproject = tf.extractfile("alpha-1.1.0/pyproject.toml")
        assert pyproject is not None
        assert b'build-backend = "hatchling.build"' in pyproject.read()


# -- pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "want_json"), [
    (None, False),
    ("text/html", False),
    (JSON_TYPE, True),
    (f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01", True),
    (f"{JSON_TYPE};q=0.1, text/html", False),
    (f"text/html;q=0.5, {JSON_TYPE}", True),
    ("*/*", False),
])
def test_content_negotiation(fixture_index: IndexServer, accept: str | None,
                             want_json: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    r = _get(fixture_index.simple_url + "beta/", **headers)
    assert r.status_code == 200
    assert (r.headers["content-type"] == JSON_TYPE) is want_json
    assert r.headers["vary"] == "Accept"
    if want_json:
        assert r.json()["name"] == "beta"
    else:
        assert r.text.startswith("<!DOCTYPE html>")


def test_json_switch_off_serves_html(make_index: MakeIndex) -> None:
    server = make_index(json=False)
    r = _get(server.simple_url + "beta/", Accept=JSON_TYPE)
    assert r.headers["content-type"] == "text/html"


def test_json_project_page_fields(fixture_index: IndexServer, fixture_build: BuildResult) -> None:
    doc = _json_page(fixture_index, "beta")
    assert doc["meta"] == {"api-version": "1.1"}
    assert doc["versions"] == ["0.9.0", "1.0.0", "1.1.0", "1.2.0", "2.0.0rc1"]
    files = _json_files(fixture_index, "beta")
    yanked = files["beta-1.1.0-py3-none-any.whl"]
    assert yanked["yanked"] == "broken import, use 1.2.0"
    assert files["beta-1.0.0-py3-none-any.whl"]["yanked"] is False
    assert files["beta-1.2.0.tar.gz"]["requires-python"] == ">=3.8,<4"
    for name, entry in files.items():
        built = fixture_build.by_filename(name)
        assert entry["hashes"] == {"sha256": built.sha256}
        assert entry["size"] == built.size
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", str(entry["upload-time"]))
    assert _json_files(fixture_index, "gamma")["gamma-0.5.0.tar.gz"]["yanked"] is True


def test_html_project_page_attributes(fixture_index: IndexServer,
                                      fixture_build: BuildResult) -> None:
    text = _get(fixture_index.simple_url + "beta/").text
    assert '<meta name="pypi:repository-version" content="1.1">' in text
    assert 'data-requires-python="&gt;=3.8,&lt;4"' in text
    assert 'data-yanked="broken import, use 1.2.0"' in text
    built = fixture_build.by_filename(BETA)
    digest = built.metadata_sha256
    assert f'href="../../files/{BETA}#sha256={built.sha256}"' in text
    assert f'data-core-metadata="sha256={digest}"' in text
    assert f'data-dist-info-metadata="sha256={digest}"' in text
    gamma = _get(fixture_index.simple_url + "gamma/").text
    assert 'data-yanked=""' in gamma


def test_root_page_and_normalized_names(fixture_index: IndexServer) -> None:
    root = _get(fixture_index.simple_url, Accept=JSON_TYPE).json()
    names = [p["name"] for p in root["projects"]]
    assert names == sorted(names)
    assert "epsilon-tool" in names
    assert "gamma" in names
    assert '<a href="alpha/">alpha</a>' in _get(fixture_index.simple_url).text
    r = _get(fixture_index.simple_url + "Epsilon_Tool/")
    assert r.status_code == 301
    assert r.headers["location"] == "/simple/epsilon-tool/"
    r = _get(fixture_index.simple_url + "epsilon-tool")
    assert r.status_code == 301
    assert _get(fixture_index.simple_url + "no-such-thing/").status_code == 404
    assert _get(fixture_index.files_url + "nope.whl").status_code == 404


# -- metadata -------------------------------------------------------------------------------


def test_metadata_files_match_advertised_hash(fixture_index: IndexServer) -> None:
    for name, entry in _json_files(fixture_index, "alpha").items():
        r = _get(fixture_index.files_url + name + ".metadata")
        if name.endswith(".tar.gz"):
            assert "core-metadata" not in entry
            assert r.status_code == 404
            continue
        assert r.status_code == 200
        digest = hashlib.sha256(r.content).hexdigest()
        assert entry["core-metadata"] == {"sha256": digest}
        assert entry["dist-info-metadata"] == {"sha256": digest}
        with zipfile.ZipFile(io.BytesIO(_get(fixture_index.files_url + name).content)) as zf:
            stem = name.split("-")[0] + "-" + name.split("-")[1]
            assert zf.read(f"{stem}.dist-info/METADATA") == r.content


def test_metadata_switch_off(make_index: MakeIndex) -> None:
    server = make_index(metadata=False)
    entry = _json_files(server, "beta")[BETA]
    assert "core-metadata" not in entry
    assert "dist-info-metadata" not in entry
    assert "data-core-metadata" not in _get(server.simple_url + "beta/").text
    assert _get(server.files_url + BETA + ".metadata").status_code == 404


def test_metadata_unadvertised(make_index: MakeIndex) -> None:
    server = make_index(metadata_unadvertised=True)
    assert "core-metadata" not in _json_files(server, "beta")[BETA]
    assert "data-dist-info-metadata" not in _get(server.simple_url + "beta/").text
    assert _get(server.files_url + BETA + ".metadata").status_code == 200


# -- files: Range, HEAD, ETag ---------------------------------------------------------------


def test_ranges(fixture_index: IndexServer, fixture_build: BuildResult) -> None:
    data = fixture_build.by_filename(BIG).path.read_bytes()
    size = len(data)
    url = fixture_index.files_url + BIG
    r = _get(url, Range="bytes=10-99")
    assert r.status_code == 206
    assert r.content == data[10:100]
    assert r.headers["content-range"] == f"bytes 10-99/{size}"
    r = _get(url, Range="bytes=-65536")
    assert r.status_code == 206
    assert r.content == data[-65536:]
    assert r.headers["content-range"] == f"bytes {size - 65536}-{size - 1}/{size}"
    r = _get(url, Range=f"bytes={size - 5}-")
    assert r.status_code == 206
    assert r.content == data[-5:]
    r = _get(url, Range=f"bytes=0-{size * 2}")
    assert r.status_code == 206
    assert r.content == data
    r = _get(url, Range=f"bytes=-{size * 2}")
    assert r.status_code == 206
    assert r.content == data
    r = _get(url, Range=f"bytes={size}-")
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    r = _get(url)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["accept-ranges"] == "bytes"
    assert int(r.headers["content-length"]) == size


def test_parse_range_edge_cases() -> None:
    assert parse_range("bytes=0-0", 10) is not None
    assert parse_range("bytes=-0", 10) is False
    assert parse_range("bytes=5-2", 10) is None
    assert parse_range("bytes=0-1,4-5", 10) is None  # multi-range: whole body
    assert parse_range("items=0-1", 10) is None


def test_range_switch_off_answers_200(make_index: MakeIndex, fixture_build: BuildResult) -> None:
    server = make_index(range=False)
    r = _get(server.files_url + BIG, Range="bytes=-100")
    assert r.status_code == 200
    assert r.content == fixture_build.by_filename(BIG).path.read_bytes()
    assert r.headers["accept-ranges"] == "none"


def test_head(fixture_index: IndexServer, fixture_build: BuildResult) -> None:
    r = httpx.head(fixture_index.files_url + BIG)
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == fixture_build.by_filename(BIG).size
    r = httpx.head(fixture_index.simple_url + "alpha/")
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) > 0


def test_etag_not_modified(fixture_index: IndexServer) -> None:
    for url, headers in [(fixture_index.files_url + BETA, {}),
                         (fixture_index.files_url + BETA + ".metadata", {}),
                         (fixture_index.simple_url + "beta/", {}),
                         (fixture_index.simple_url + "beta/", {"Accept": JSON_TYPE})]:
        first = _get(url, **headers)
        etag = first.headers["etag"]
        again = _get(url, **headers, **{"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert _get(url, **headers, **{"If-None-Match": '"other"'}).status_code == 200
    html_tag = _get(fixture_index.simple_url + "beta/").headers["etag"]
    json_tag = _get(fixture_index.simple_url + "beta/", Accept=JSON_TYPE).headers["etag"]
    assert html_tag != json_tag


# -- faults ---------------------------------------------------------------------------------


def test_latency(make_index: MakeIndex) -> None:
    server = make_index(latency=0.3)
    start = time.monotonic()
    assert _get(server.simple_url).status_code == 200
    assert time.monotonic() - start >= 0.3


@pytest.mark.parametrize("status", [500, 429])
def test_fail_every(make_index: MakeIndex, status: int) -> None:
    server = make_index(fail_every=3, fail_status=status, retry_after=2)
    statuses = [_get(server.simple_url + "alpha/") for _ in range(6)]
    assert [r.status_code for r in statuses] == [200, 200, status] * 2
    if status == 429:
        assert statuses[2].headers["retry-after"] == "2"
    else:
        assert "retry-after" not in statuses[2].headers


def test_reset_every(make_index: MakeIndex) -> None:
    server = make_index(reset_every=2)
    assert _get(server.simple_url).status_code == 200
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        _get(server.simple_url)
    assert _get(server.simple_url).status_code == 200
    assert [r.status for r in server.requests] == [200, 0, 200]


def test_truncate_every(make_index: MakeIndex, fixture_build: BuildResult) -> None:
    server = make_index(truncate_every=1)
    with httpx.Client() as client:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message"):
            client.get(server.files_url + BIG)
        size = fixture_build.by_filename(BIG).size
        assert server.requests[-1].bytes_sent == size // 2
        server.options.truncate_every = 0  # switches apply at runtime
        assert len(client.get(server.files_url + BIG).content) == size


def test_request_log(make_index: MakeIndex) -> None:
    server = make_index()
    _get(server.files_url + BETA, Range="bytes=-10")
    httpx.head(server.simple_url)
    first, second = server.requests
    assert (first.method, first.path, first.status, first.bytes_sent) == (
        "GET", f"/files/{BETA}", 206, 10)
    assert first.headers["Range"] == "bytes=-10"
    assert (second.method, second.status, second.bytes_sent) == ("HEAD", 200, 0)
    server.reset()
    assert server.requests == []


# -- packse ---------------------------------------------------------------------------------


def test_packse_index_served_as_is_with_range(packse_index: str,
                                              packse_server: IndexServer) -> None:
    page = _get(packse_index + "fork-basic-a/")
    assert page.status_code == 200
    assert "fork_basic_a-1.0.0.tar.gz" in page.text
    href = re.search(r'href="\.\./\.\./files/([^"#]+)', page.text)
    assert href is not None
    url = packse_server.url + "/files/" + href.group(1)
    whole = _get(url).content
    r = _get(url, Range="bytes=-22")
    assert r.status_code == 206
    assert r.content == whole[-22:]
    assert _get(packse_server.url + "/simple-html/fork-basic-a").status_code == 301
    assert _get(packse_server.url + "/../../etc/passwd").status_code == 404


# -- end to end -----------------------------------------------------------------------------


def _pip_into_venv(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run this interpreter's pip against a fresh venv, ignoring any machine pip config."""
    if not venv.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    env.pop("PIP_FIND_LINKS", None)
    env.pop("PIP_INDEX_URL", None)
    env.pop("PIP_EXTRA_INDEX_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-cache-dir", "--disable-pip-version-check", *args],
        check=False, capture_output=True, text=True, timeout=300, env=env,
    )


def test_pip_installs_from_the_fixture_index(fixture_index: IndexServer, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    proc = _pip_into_venv(venv, "--only-binary", ":all:", "--index-url", fixture_index.simple_url,
                          "alpha", "epsilon-tool")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = subprocess.run([str(venv / "bin" / "epsilon-tool")], check=True,
                         capture_output=True, text=True).stdout
    assert out == "Epsilon_Tool 1.0.0\n"
    assert (venv / "bin" / "epsilon-data-script").exists()
    listed = subprocess.run([str(venv / "bin" / "python"), "-c", (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )], check=True, capture_output=True, text=True).stdout
    versions = json.loads(listed)
    # 2.0.0b1 is a prerelease, beta 1.1.0 is yanked and 2.0.0rc1 needs Python >= 3.99.
    assert versions["alpha"] == "1.1.0"
    assert versions["beta"] == "1.2.0"
    assert versions["gamma"] == "1.0.0"
    paths = [r.path for r in fixture_index.requests]
    assert any(p.endswith(".whl.metadata") for p in paths)


def test_sdists_build_with_pip(fixture_index: IndexServer, tmp_path: Path) -> None:
    vendor = packse_dir() / "index" / "vendor" / "build"
    if not vendor.is_dir():
        pytest.skip(f"no offline hatchling: {vendor} is absent")
    venv = tmp_path / "venv"
    proc = _pip_into_venv(venv, "--index-url", fixture_index.simple_url, "--find-links",
                          str(vendor), "--no-binary", "delta,epsilon-tool", "delta==0.6.0",
                          "epsilon-tool")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Successfully installed beta-1.2.0 delta-0.6.0 epsilon-tool-1.0.0" in proc.stdout
    assert (venv / "bin" / "epsilon-tool").exists()


def test_fail_first_then_succeed(make_index: MakeIndex) -> None:
    server = make_index(fail_first=2, fail_status=503)
    assert [_get(server.simple_url).status_code for _ in range(4)] == [503, 503, 200, 200]


def test_fault_match_limits_faults_to_matching_paths(make_index: MakeIndex) -> None:
    server = make_index(fail_every=1, fault_match=r"\.whl$")
    assert _get(server.simple_url + "beta/").status_code == 200
    assert _get(server.files_url + BETA + ".metadata").status_code == 200
    assert _get(server.files_url + BETA).status_code == 500


def test_fixture_index_is_fresh_for_each_test_a(fixture_index: IndexServer) -> None:
    assert fixture_index.requests == []
    fixture_index.options.fail_every = 1
    assert _get(fixture_index.simple_url).status_code == 500


def test_fixture_index_is_fresh_for_each_test_b(fixture_index: IndexServer) -> None:
    assert fixture_index.requests == []
    assert fixture_index.options.fail_every == 0
    assert _get(fixture_index.simple_url).status_code == 200


def test_many_concurrent_async_requests(fixture_index: IndexServer,
                                        fixture_build: BuildResult) -> None:
    import asyncio

    want = fixture_build.by_filename(BIG).path.read_bytes()

    async def fetch_all() -> list[bytes]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            async def one(i: int) -> bytes:
                r = await client.get(fixture_index.files_url + BIG,
                                     headers={"Range": f"bytes={i * 100}-{i * 100 + 99}"})
                assert r.status_code == 206
                return r.content

            return await asyncio.gather(*(one(i) for i in range(64)))

    parts = asyncio.run(fetch_all())
    assert parts == [want[i * 100:i * 100 + 100] for i in range(64)]
    assert len(fixture_index.requests) == 64


def test_server_context_manager_and_double_stop(fixture_build: BuildResult) -> None:
    start = time.monotonic()
    with serve_build(fixture_build) as server:  # already started: __enter__ must not restart
        assert _get(server.simple_url).status_code == 200
        threads = [t for t in threading.enumerate() if t.name == f"index-{server.url}"]
        assert len(threads) == 1
    server.stop()
    assert time.monotonic() - start < 3
    with pytest.raises(httpx.ConnectError):
        _get(server.simple_url)
