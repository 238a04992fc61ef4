"""IndexClient against the real fixture index server: dialects, metadata routes, faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.client import IndexClient
from ghostenv.index.models import DistFile


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _page_and_meta(client: IndexClient, name: str, filename: str) -> tuple[Any, Any]:
    async with client:
        page = await client.project(name)
        file = next(f for f in page.files if f.filename == filename)
        return page, await client.metadata(file)


ALPHA_WHEEL = "alpha-1.1.0-py3-none-any.whl"


def _paths(server: Any) -> list[str]:
    return [r.path for r in server.requests]


def test_json_dialect_with_pep658(fixture_index: Any) -> None:
    page, meta = run(_page_and_meta(IndexClient(fixture_index.simple_url, retries=0),
                                    "ALPHA", ALPHA_WHEEL))
    assert page.name == "alpha"
    assert page.api_version == "1.1"
    assert "1.1.0" in page.versions  # PEP 700
    wheel = next(f for f in page.files if f.filename == ALPHA_WHEEL)
    assert wheel.size
    assert wheel.upload_time
    assert isinstance(wheel.core_metadata, dict)
    assert next(str(r) for r in meta.requires_dist).startswith("beta")
    assert fixture_index.requests[0].headers.get("Accept", "").startswith(
        "application/vnd.pypi.simple.v1+json")
    assert any(p.endswith(".whl.metadata") for p in _paths(fixture_index))


def test_html_dialect_gives_same_files(make_index: Any) -> None:
    json_server, html_server = make_index(), make_index(json=False)

    async def both() -> tuple[Any, Any]:
        async with IndexClient(json_server.simple_url) as a, \
                IndexClient(html_server.simple_url) as b:
            return await a.project("gamma"), await b.project("gamma")

    from_json, from_html = run(both())
    assert from_html.api_version == "1.1"
    def key(page: Any) -> list[tuple[Any, ...]]:
        return [(f.filename, f.url.split("/", 3)[3], f.hashes, f.requires_python, f.yanked)
                for f in page.files]

    assert key(from_json) == key(from_html)
    assert any(f.yanked for f in from_html.files)


def test_unadvertised_metadata_races_a_range_read(make_index: Any) -> None:
    """An undecided host gets probe and Range read at once; the answer is the same."""
    server = make_index(metadata_unadvertised=True)

    async def go() -> tuple[IndexClient, list[Any]]:
        async with IndexClient(server.simple_url) as client:
            page = await client.project("alpha")
            wheels = [f for f in page.files if f.is_wheel]
            assert not any(f.core_metadata for f in wheels)
            return client, list(await asyncio.gather(*(client.metadata(f) for f in wheels)))

    client, metas = run(go())
    assert {m.name for m in metas} == {"alpha"}
    assert len({str(m.version) for m in metas}) == len(metas) == 3
    host = server.url.split("//", 1)[1]
    # every wheel raced (no miss); on a loaded machine two Range wins may settle the
    # host before the third race reports, so that one is not scored
    assert sum(client._race_score.get(host, (0, 0))) in (2, 3)
    assert all(r.status in (200, 206) for r in server.requests)


def test_a_host_whose_probes_win_is_probed_alone(
        make_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four races won by the probe settle the host: later wheels are probed alone."""
    server = make_index(metadata_unadvertised=True)
    real_range, real_race = IndexClient._range_metadata, IndexClient._race
    raced: list[str] = []

    async def slow_range(self: IndexClient, file: Any) -> bytes:
        await asyncio.sleep(1.0)  # the Range read loses every race (cancelled before sending)
        return await real_range(self, file)

    async def race(self: IndexClient, file: Any, host: str) -> bytes:
        raced.append(file.filename)
        return await real_race(self, file, host)

    monkeypatch.setattr(IndexClient, "_range_metadata", slow_range)
    monkeypatch.setattr(IndexClient, "_race", race)

    async def go() -> tuple[IndexClient, list[Any]]:
        async with IndexClient(server.simple_url) as client:
            wheels = [f for name in ("alpha", "beta", "gamma", "delta")
                      for f in (await client.project(name)).files if f.is_wheel]
            assert len(wheels) > 4
            # one at a time, so each race is settled before the next starts
            return client, [await client.metadata(f) for f in wheels]

    start = time.perf_counter()
    client, metas = run(go())
    host = server.url.split("//", 1)[1]
    assert client._probe == {host: True}
    assert client._race_score[host] == (4, 0)
    assert len(raced) == 4 < len(metas)
    assert {m.name.lower() for m in metas} <= {"alpha", "beta", "gamma", "delta"}
    assert not any("Range" in r.headers for r in server.requests)
    assert time.perf_counter() - start < 1.0 * len(metas)  # no Range read was waited for


def test_range_fallback_without_metadata(make_index: Any) -> None:
    server = make_index(metadata=False)

    async def go() -> tuple[IndexClient, Any]:
        async with IndexClient(server.simple_url) as client:
            page = await client.project("zeta-big")
            return client, await client.metadata(page.files[0])

    client, meta = run(go())
    assert meta.name == "zeta-big"
    assert not any(client._probe.values())  # a miss (or a lost race) never settles on probing
    assert sum(r.path.endswith(".metadata") for r in server.requests) <= 1
    full = next(r for r in server.requests if r.path.endswith(".whl") and r.status == 206)
    assert full.headers.get("Range")
    assert sum(r.bytes_sent for r in server.requests if r.path.endswith(".whl")) < 200_000


def test_a_probe_miss_switches_the_host_to_range_reads(
        make_index: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mirror that lacks one .metadata file is not probed again (Range reads only)."""
    server = make_index(metadata=False)
    real_range = IndexClient._range_metadata

    async def late_range(self: IndexClient, file: Any) -> bytes:
        await asyncio.sleep(0.3)  # the probe's 404 arrives first
        return await real_range(self, file)

    monkeypatch.setattr(IndexClient, "_range_metadata", late_range)

    async def go() -> tuple[IndexClient, list[Any]]:
        async with IndexClient(server.simple_url) as client:
            wheels = [f for f in (await client.project("alpha")).files if f.is_wheel]
            return client, [await client.metadata(f) for f in wheels]

    client, metas = run(go())
    assert [m.name for m in metas] == ["alpha"] * 3
    assert client._probe == {server.url.split("//", 1)[1]: False}
    assert sum(r.path.endswith(".metadata") for r in server.requests) == 1


def test_sdist_pkg_info(make_index: Any) -> None:
    server = make_index(metadata=False)

    async def go() -> Any:
        async with IndexClient(server.simple_url) as client:
            page = await client.project("beta")
            sdist = next(f for f in page.files if f.filename.endswith(".tar.gz"))
            return await client.metadata(sdist)

    meta = run(go())
    assert meta.name == "beta"
    assert not any(r.path.endswith(".metadata") for r in server.requests)


@pytest.mark.parametrize("options", [
    {"fail_first": 2, "fail_status": 500},
    {"fail_first": 2, "fail_status": 503},
    {"reset_every": 2},
    {"truncate_every": 2},
])
def test_faults_are_retried(make_index: Any, options: dict[str, Any]) -> None:
    server = make_index(**options)
    _page, meta = run(_page_and_meta(IndexClient(server.simple_url, backoff=0.01),
                                    "alpha", ALPHA_WHEEL))
    assert meta.name == "alpha"
    assert len(server.requests) > 2


def test_429_honours_retry_after(make_index: Any) -> None:
    server = make_index(fail_first=1, fail_status=429, retry_after=1)
    start = time.perf_counter()
    page = run(_project(IndexClient(server.simple_url, backoff=0.01), "alpha"))
    assert page.files
    assert time.perf_counter() - start >= 0.9
    assert server.requests[0].status == 429


async def _project(client: IndexClient, name: str) -> Any:
    async with client:
        return await client.project(name)


def test_persistent_500_names_url_without_password(make_index: Any) -> None:
    server = make_index(fail_every=1, fail_status=500)
    url = server.simple_url.replace("http://", "http://user:s3cret@")
    with pytest.raises(NetworkError) as info:
        run(_project(IndexClient(url, retries=1, backoff=0.01), "alpha"))
    assert "s3cret" not in str(info.value)
    assert "500" in str(info.value)
    assert "user:****@" in str(info.value)
    assert server.requests[0].headers.get("Authorization", "").startswith("Basic ")


def test_latency_is_overlapped(make_index: Any) -> None:
    server = make_index(latency=0.3)
    names = ["alpha", "beta", "gamma", "delta", "epsilon-tool", "zeta-big"]

    async def go() -> list[Any]:
        async with IndexClient(server.simple_url) as client:
            return await asyncio.gather(*(client.project(n) for n in names))

    start = time.perf_counter()
    pages = run(go())
    assert [p.name for p in pages] == names
    assert time.perf_counter() - start < 0.3 * len(names) / 2


def test_first_index_that_has_the_package_wins(make_index: Any, packse_index: str) -> None:
    fixtures = make_index()

    async def go() -> tuple[Any, Any]:
        async with IndexClient(packse_index, extra_index_urls=(fixtures.simple_url,)) as c:
            return await c.project("alpha"), await c.project("all-extras-required-a")

    alpha, packse = run(go())
    assert alpha.index_url == fixtures.simple_url
    assert packse.index_url == packse_index
    with pytest.raises(NetworkError, match="nosuch"):
        run(_project(IndexClient(fixtures.simple_url), "nosuch"))


def test_file_index_and_find_links(fixture_wheels: Path, tmp_path: Path) -> None:
    packse = Path("/work/shared/packse/index/simple-html")
    if not packse.is_dir():
        pytest.skip("packse static index not present")

    async def go() -> tuple[Any, Any, Any]:
        async with IndexClient(packse.as_uri(), find_links=(str(fixture_wheels),)) as c:
            page = await c.project("all-extras-required-a")
            local = await c.project("alpha")
            wheel = next(f for f in local.files if f.filename == ALPHA_WHEEL)
            return page, local, await c.metadata(wheel)

    page, local, meta = run(go())
    assert page.files[0].url.startswith("file:///work/shared/packse/index/files/")
    assert all(f.filename.startswith("alpha-") for f in local.files)
    assert meta.name == "alpha"


def test_distfile_defaults() -> None:
    f = DistFile(filename="x-1-py3-none-any.whl", url="u")
    assert f.is_wheel
    assert f.sha256 is None


def test_prefetch_and_concurrent_callers_share_one_fetch(make_index: Any) -> None:
    server = make_index()

    async def go() -> list[Any]:
        async with IndexClient(server.simple_url) as client:
            page = await client.project("alpha")
            wheels = [f for f in page.files if f.is_wheel]
            client.prefetch(wheels)
            return list(await asyncio.gather(*(client.metadata(w) for w in wheels * 3)))

    metas = run(go())
    assert len(metas) == 9
    fetched = [r.path for r in server.requests if r.path.endswith(".metadata")]
    assert len(fetched) == len(set(fetched)) == 3


def test_a_burst_on_an_undecided_host_races_only_a_few_probes(make_index: Any) -> None:
    """Many wheels asked at once: a few races settle the host, the rest read by Range."""
    from ghostenv.index.probe import MAX_RACES

    server = make_index(metadata=False, latency=0.05)
    names = ["alpha", "beta", "gamma", "delta", "epsilon-tool", "zeta-big"]

    async def go() -> list[Any]:
        async with IndexClient(server.simple_url) as client:
            pages = await asyncio.gather(*(client.project(n) for n in names))
            wheels = [f for p in pages for f in p.files if f.is_wheel]
            assert len(wheels) > 2 * MAX_RACES
            return list(await asyncio.gather(*(client.metadata(f) for f in wheels)))

    metas = run(go())
    assert all(m.name for m in metas)
    probes = sum(r.path.endswith(".metadata") for r in server.requests)
    assert 1 <= probes <= MAX_RACES
