"""Find-links HTML pages, ~/.netrc credentials, and two processes writing one HTTP cache."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.cache import CachedPage, HttpCache
from ghostenv.index.client import IndexClient
from tests.conftest import run_ghostenv


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _empty_index(tmp_path: Path) -> str:
    root = tmp_path / "empty-index"
    root.mkdir()
    return root.as_uri()


def test_find_links_local_html_page(fixture_wheels: Path, tmp_path: Path) -> None:
    """An HTML file of links: relative hrefs resolve next to it, metadata reads the wheel."""
    links = tmp_path / "links"
    links.mkdir()
    for wheel in fixture_wheels.glob("alpha-*.whl"):
        (links / wheel.name).write_bytes(wheel.read_bytes())
    page = links / "index.html"
    page.write_text("<html><body>\n" + "".join(
        f'<a href="./{w.name}">{w.name}</a>\n' for w in sorted(links.glob("*.whl"))
    ) + '<a href="other-1.0.tar.gz">other-1.0.tar.gz</a>\n</body></html>\n')

    async def go() -> tuple[Any, Any]:
        async with IndexClient(_empty_index(tmp_path), find_links=(str(page),)) as client:
            found = await client.project("ALPHA")
            wheel = next(f for f in found.files if f.filename == "alpha-1.1.0-py3-none-any.whl")
            return found, await client.metadata(wheel)

    found, meta = run(go())
    assert {f.filename for f in found.files} == {w.name for w in links.glob("alpha-*.whl")}
    assert all(f.url.startswith(links.as_uri() + "/") for f in found.files)
    assert (meta.name, str(meta.version)) == ("alpha", "1.1.0")


def test_find_links_html_page_over_http(fixture_index: Any, tmp_path: Path) -> None:
    """A remote find-links page (here the fixture's own project page, served as HTML)."""
    link = fixture_index.simple_url + "beta/"

    async def go() -> Any:
        async with IndexClient(_empty_index(tmp_path), find_links=(link,)) as client:
            return await client.project("beta")

    found = run(go())
    names = {f.filename for f in found.files}
    assert "beta-1.2.0-py3-none-any.whl" in names
    assert all(f.url.startswith(fixture_index.files_url) for f in found.files)
    assert any(r.path == "/simple/beta/" for r in fixture_index.requests)


def _netrc(home: Path, host: str, password: str) -> None:
    home.mkdir(exist_ok=True)
    path = home / ".netrc"
    path.write_text(f"machine {host}\nlogin alice\npassword {password}\n")
    path.chmod(0o600)


def test_netrc_credentials_are_sent_and_never_printed(make_index: Any, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    server = make_index()
    secret = "n3trc-s3cret"
    home = tmp_path / "home"
    _netrc(home, "127.0.0.1", secret)
    monkeypatch.setenv("HOME", str(home))

    async def go(url: str) -> Any:
        async with IndexClient(url, retries=0) as client:
            return await client.project("alpha")

    run(go(server.simple_url))
    expected = "Basic " + base64.b64encode(f"alice:{secret}".encode()).decode()
    assert server.requests[0].headers.get("Authorization") == expected

    failing = make_index(fail_every=1, fail_status=500)
    with pytest.raises(NetworkError) as info:
        run(go(failing.simple_url))
    assert secret not in str(info.value)
    assert secret not in str(info.value.hint)
    # the real CLI, as talkative as it gets, on success and on failure
    env = {"HOME": str(home), "GHOSTENV_CACHE_DIR": str(tmp_path / "cache")}
    for url in (server.simple_url, failing.simple_url):
        proc = run_ghostenv("-vv", "peek", "alpha", "--index-url", url, env=env)
        assert secret not in proc.stdout + proc.stderr
    assert any(r.headers.get("Authorization") == expected for r in failing.requests)


_WRITER = """
import sys
from pathlib import Path
from ghostenv.index.cache import CachedPage, HttpCache
cache = HttpCache(Path(sys.argv[1]))
tag = sys.argv[2].encode()
for i in range(int(sys.argv[3])):
    body = tag * (1 + (i * 7919) % 20000)  # sizes vary, so a torn write would show
    cache.put_page(CachedPage("https://i/simple/x/", body, "text/html", None, None, 0.0, 0))
    cache.put_metadata("sha256", "ab" * 32, b"Metadata-Version: 2.1\\nName: x\\n" + tag * i)
"""


def test_two_processes_writing_one_cache_never_tear_an_entry(tmp_path: Path) -> None:
    """Two processes rewrite the same page and metadata entries while this one reads."""
    root = tmp_path / "cache"
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(root), tag, "150"])
               for tag in ("A", "B")]
    cache = HttpCache(root)
    pages = metas = 0
    page_path = cache._page_path("https://i/simple/x/")
    deadline = time.monotonic() + 60
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        try:
            raw = page_path.read_bytes()
        except OSError:
            continue
        header, _, body = raw.partition(b"\n")
        info = json.loads(header)  # never a half-written header
        assert len(body) == info["length"]
        assert len(set(body)) == 1  # never bytes of both writers
        pages += 1
        meta = cache.get_metadata("sha256", "ab" * 32)
        if meta is not None:
            assert meta.startswith(b"Metadata-Version: 2.1\nName: x\n")
            metas += 1
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    assert pages > 0
    assert metas > 0
    final = cache.get_page("https://i/simple/x/")
    assert final is not None
    assert set(final.body) in ({ord("A")}, {ord("B")})
    # nothing was left behind: no temp files, only the entries and their lock files
    leftovers = [p.name for p in root.rglob("*") if p.is_file()
                 and not p.name.endswith(".lock") and p != page_path
                 and not p.name.endswith(".metadata")]
    assert leftovers == []


def test_corrupt_entry_written_by_another_process_is_refetched(make_index: Any,
                                                               tmp_path: Path) -> None:
    server = make_index()
    root = tmp_path / "cache"

    async def go() -> Any:
        async with IndexClient(server.simple_url, cache_dir=root) as client:
            return await client.project("alpha")

    first = run(go())
    cache = HttpCache(root)
    path = cache._page_path(server.simple_url + "alpha/")
    path.write_bytes(path.read_bytes()[:-10])  # a torn entry, as a crash could leave
    before = len(server.requests)
    again = run(go())
    assert [f.filename for f in again.files] == [f.filename for f in first.files]
    assert len(server.requests) == before + 1
    assert cache.get_page(server.simple_url + "alpha/") is not None
    assert isinstance(cache.get_page(server.simple_url + "alpha/"), CachedPage)


def test_slow_probe_races_a_range_read_and_the_answer_is_the_same(
        make_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a host whose probes won, a probe past its grace period gets a Range read beside it."""
    server = make_index(metadata_unadvertised=True, latency=0.4)  # > the 0.3 s grace cap
    started: list[str] = []
    real = IndexClient._range_metadata

    async def observed(self: IndexClient, file: Any) -> bytes:
        started.append(file.filename)  # observe only: the real Range read runs
        return await real(self, file)

    monkeypatch.setattr(IndexClient, "_range_metadata", observed)

    async def go() -> tuple[IndexClient, list[Any]]:
        async with IndexClient(server.simple_url) as client:
            page = await client.project("alpha")
            wheels = [f for f in page.files if f.is_wheel]
            client._probe[server.url.split("//", 1)[1]] = True  # as after probes won 4 races
            await client.metadata(wheels[0])
            return client, await asyncio.gather(*(client.metadata(f) for f in wheels[1:]))

    start = time.perf_counter()
    client, metas = run(go())
    assert client._probe == {server.url.split("//", 1)[1]: True}
    assert {m.name for m in metas} == {"alpha"}
    assert len({str(m.version) for m in metas}) == len(metas)
    assert len(started) == 1 + len(metas)  # every probe was raced, the first one too
    assert time.perf_counter() - start < 0.4 * 6  # page + first probe + one raced round


def test_a_keyed_pick_is_remembered_per_page_body(make_index: Any, tmp_path: Path) -> None:
    """An unchanged page is not scanned again; a changed one is (the key is its bytes)."""
    server = make_index(json=False)
    calls: list[int] = []

    def newest(named: list[tuple[str, bool]]) -> set[str]:
        calls.append(len(named))
        return {named[-1][0]}

    async def go() -> Any:
        async with IndexClient(server.simple_url, cache_dir=tmp_path / "c") as client:
            return await client.project("beta", pick=newest, pick_key="test-newest")

    first, second = run(go()), run(go())
    assert len(calls) == 1  # the second run refetched the page but did not scan it
    stored = HttpCache(tmp_path / "c").get_page(server.simple_url + "beta/")
    assert stored is not None
    assert stored.digest == hashlib.sha256(stored.body).hexdigest()  # kept with the entry
    assert first.files == second.files
    assert len(first.files) == 1
    server.options.metadata = False  # the page body changes (no data-core-metadata)
    third = run(go())
    assert len(calls) == 2
    assert third.files[0].filename == first.files[0].filename
    assert third.files[0].core_metadata is False
