"""The compiled link index and the batched, threaded install of several wheels at once."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import marshal
import os
import sys
from pathlib import Path

import pytest

from ghostenv.errors import StoreError
from ghostenv.materialize import install
from ghostenv.materialize.install import Job, install_many
from ghostenv.materialize.link import Linker, LinkMode
from ghostenv.store import LinkIndex, Store
from ghostenv.store.manifest import record_field, record_hash
from ghostenv.store.record import FrozenInstanceError
from tests.store.wheelbuild import make_wheel

KEYS = ("purelib", "platlib", "scripts", "headers", "data")


def _b64(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


@pytest.mark.parametrize("text", ["plain/path.py", "a,b.py", 'q"uote.txt', "new\nline", "é.py"])
def test_record_field_matches_csv(text: str) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([text, "x"])
    assert f"{record_field(text)},x\n" == out.getvalue()


def test_record_hash_and_known_digests() -> None:
    digest = hashlib.sha256(b"abc").hexdigest()
    assert record_hash(digest) == _b64(b"abc")
    for data, known in install._KNOWN_DIGESTS.items():
        assert known == _b64(data)
    assert install._digest(b"launcher bytes") == _b64(b"launcher bytes")


def test_link_index_round_trip_and_store_cache(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path, "demo", files={
        "demo/__init__.py": b"", "demo/deep/er/mod.py": b"X = 1\n",
        "demo-1.0.data/scripts/tool": b"#!python\n"}))
    index = store.get_link_index(manifest.wheel_sha256)
    assert index is not None
    assert LinkIndex.from_bytes(index.to_bytes()) == index
    assert index.dirs.index("demo") < index.dirs.index("demo/deep") < index.dirs.index(
        "demo/deep/er")
    assert [f.path for f in index.data] == ["demo-1.0.data/scripts/tool"]
    assert {p for _, p in index.plain} >= {"demo/__init__.py", "demo/deep/er/mod.py"}
    assert not any(p.endswith("/RECORD") for _, p in index.plain)
    with pytest.raises(FrozenInstanceError):
        index.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError, match="damaged"):
        LinkIndex.from_bytes(b"\xe9\x00")
    with pytest.raises(ValueError, match="another format"):
        LinkIndex.from_bytes(marshal.dumps((99, "x")))
    # a damaged index is rebuilt from the manifest
    Path(store.link_index_path(manifest.wheel_sha256)).write_bytes(b"garbage")
    assert store.get_link_index(manifest.wheel_sha256) == index
    store.forget_wheel(manifest.wheel_sha256)
    assert store.get_link_index(manifest.wheel_sha256) is None


def _jobs(tmp_path: Path, store: Store, count: int) -> list[Job]:
    root = tmp_path / "env"
    scheme = {k: str(root / k) for k in KEYS}
    jobs = []
    for n in range(count):
        name = f"pkg{n}"
        files = {f"{name}/m{i // 20}/f{i}.py": f"V = {n}, {i}\n".encode() for i in range(150)}
        files[f"{name}/shared.txt"] = b"same bytes in every wheel"
        manifest = store.add_wheel(make_wheel(tmp_path, name, files=files,
                                              executable={f"{name}/m0/f0.py"}))
        index = store.get_link_index(manifest.wheel_sha256)
        assert index is not None
        jobs.append(Job(index, scheme, requested=n == 0))
    return jobs


def _check(dist_info: Path) -> int:
    site = dist_info.parent
    rows = list(csv.reader((dist_info / "RECORD").read_text().splitlines()))
    for path, digest, _size in rows:
        if digest:
            assert digest == _b64((site / path).read_bytes()), path
    return len(rows)


def test_many_wheels_on_several_threads_then_again(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    jobs = _jobs(tmp_path, store, 4)
    results = install_many(jobs, store, interpreter=sys.executable, workers=3,
                           linker=Linker(LinkMode.HARDLINK))
    for n, result in enumerate(results):
        assert not isinstance(result, StoreError)
        assert _check(result.dist_info) == result.files
        # and METADATA, WHEEL; REQUESTED (the first job's) linked from the store
        assert result.modes["hardlink"] == 151 + 2 + (n == 0)
        installer = result.dist_info / "INSTALLER"
        assert installer.read_text() == "ghostenv\n"
        assert installer.stat().st_nlink == 1  # written, never linked (issue 5)
        if n == 0:
            assert (result.dist_info / "REQUESTED").stat().st_nlink > 1
    site = Path(jobs[0].scheme["purelib"])
    assert os.access(site / "pkg0" / "m0" / "f0.py", os.X_OK)
    assert (site / "pkg0-1.0.dist-info" / "REQUESTED").exists()
    assert not (site / "pkg1-1.0.dist-info" / "REQUESTED").exists()
    # over an existing install (an interrupted one, say): every file is replaced, no error
    (site / "pkg2-1.0.dist-info" / "RECORD").unlink()
    again = install_many(jobs, store, interpreter=sys.executable, workers=2)
    assert all(not isinstance(r, StoreError) for r in again)
    assert _check(site / "pkg2-1.0.dist-info") > 150


def test_missing_object_stops_only_its_wheel(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    jobs = _jobs(tmp_path, store, 3)
    victim = jobs[1].index.plain[40][0]
    os.unlink(f"{store.objects}/{victim}")
    results = install_many(jobs, store, interpreter=sys.executable, workers=2)
    assert isinstance(results[1], StoreError)
    assert jobs[1].index.plain[40][1] in str(results[1])
    site = Path(jobs[0].scheme["purelib"])
    assert not (site / "pkg1-1.0.dist-info" / "RECORD").exists()  # the plan redoes it
    for number in (0, 2):
        assert not isinstance(results[number], StoreError)
        assert (site / f"pkg{number}-1.0.dist-info" / "RECORD").exists()


def test_trees_shared_by_wheels_and_index_groups(tmp_path: Path) -> None:
    """Two wheels in one namespace tree, loose root files: every file lands, groups are exact."""
    store = Store(tmp_path / "store")
    scheme = {k: str(tmp_path / "env" / k) for k in KEYS}
    jobs = []
    for name in ("ns_a", "ns_b"):
        files = {f"nspkg/{name}/deep/m{i}.py": b"x = 1\n" for i in range(300)}
        files[f"{name}_top.py"] = b"TOP = 1\n"
        manifest = store.add_wheel(make_wheel(tmp_path, name, files=files))
        index = store.get_link_index(manifest.wheel_sha256)
        assert index is not None
        groups = {g[0]: g for g in index.groups}
        assert set(groups) == {"", "nspkg", f"{name}-1.0.dist-info"}
        _, d0, d1, p0, p1, _, _ = groups["nspkg"]
        assert all(d.startswith("nspkg") for d in index.dirs[d0:d1])
        assert all(p.startswith("nspkg/") for _, p in index.plain[p0:p1])
        assert [p for _, p in index.plain[groups[""][3]:groups[""][4]]] == [f"{name}_top.py"]
        jobs.append(Job(index, scheme))
    results = install_many(jobs, store, interpreter=sys.executable, workers=2)
    site = Path(scheme["purelib"])
    for result, name in zip(results, ("ns_a", "ns_b"), strict=True):
        assert not isinstance(result, StoreError)
        assert _check(result.dist_info) == result.files
        assert (site / f"{name}_top.py").read_text() == "TOP = 1\n"
        assert len(list((site / "nspkg" / name / "deep").iterdir())) == 300
