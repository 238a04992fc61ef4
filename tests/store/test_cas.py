"""The object store: put/verify/info/clean on real files, and wheel unpacking."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghostenv.errors import HashMismatchError, WheelError
from ghostenv.store import Store, WheelManifest
from tests.store.wheelbuild import make_wheel


def test_put_bytes_layout_and_dedup(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    sha = store.put_bytes(b"hello")
    assert sha == hashlib.sha256(b"hello").hexdigest()
    path = store.object_path(sha)
    assert path == tmp_path / "s" / "objects-v1" / sha[:2] / sha[2:4] / sha[4:]
    assert path.read_bytes() == b"hello"
    assert store.put_bytes(b"hello") == sha
    assert store.info().objects == 1
    assert list((tmp_path / "s" / "tmp").iterdir()) == []


def test_put_small_is_put_bytes_without_replacing_an_existing_object(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    for data in (b"", b"ghostenv\n", bytes(range(256)) * 9):
        sha = store.put_small(data)
        assert sha == hashlib.sha256(data).hexdigest()
        obj = store.object_path(sha)
        assert obj.read_bytes() == data
        assert obj.stat().st_mode & 0o777 == 0o444
        linked = tmp_path / f"env-{sha[:8]}"
        os.link(obj, linked)  # an environment's hardlink to it
        assert store.put_small(data) == sha == store.put_bytes(data)
        assert obj.stat().st_ino == linked.stat().st_ino  # the same file, not replaced
    assert not any((tmp_path / "store" / "tmp").iterdir())  # no temp files left


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8))
def test_any_blobs_roundtrip(tmp_path_factory: pytest.TempPathFactory,
                             blobs: list[bytes]) -> None:
    store = Store(tmp_path_factory.mktemp("s"))
    for blob in blobs:
        assert store.object_path(store.put_bytes(blob)).read_bytes() == blob
    info = store.info()
    assert info.objects == len(set(blobs))
    assert info.bytes == sum(len(b) for b in set(blobs))


def test_put_stream_hash_mismatch_names_file_and_removes_partial(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    wrong = "0" * 64
    with pytest.raises(HashMismatchError) as info:
        store.put_stream([b"abc", b"def"], expected_sha256=wrong, label="pkg-1.0.whl")
    message = str(info.value)
    assert "pkg-1.0.whl" in message
    assert wrong in message
    assert hashlib.sha256(b"abcdef").hexdigest() in message
    assert list((tmp_path / "s" / "tmp").iterdir()) == []
    assert store.info().objects == 0


def test_put_file_expected_hash_ok(tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(os.urandom(3 << 20))
    expected = hashlib.sha256(src.read_bytes()).hexdigest()
    store = Store(tmp_path / "s")
    assert store.put_file(src, expected_sha256=expected.upper()) == expected


def test_add_wheel_manifest_is_stored_and_reused(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = make_wheel(tmp_path, files={"demo/__init__.py": b"X = 1\n",
                                        "demo/same.txt": b"dup", "demo/same2.txt": b"dup"},
                       entry_points="[console_scripts]\ndemo = demo:main\n"
                                    "[gui_scripts]\ndemo-gui = demo.gui:run\n")
    store = Store(tmp_path / "s")
    manifest = store.add_wheel(wheel)
    assert manifest.name == "demo"
    assert manifest.version == "1.0"
    assert manifest.dist_info == "demo-1.0.dist-info"
    assert manifest.tags == ("py3-none-any",)
    assert manifest.console_scripts == (("demo", "demo:main"),)
    assert manifest.gui_scripts == (("demo-gui", "demo.gui:run"),)
    paths = {f.path for f in manifest.files}
    assert "demo/same.txt" in paths
    assert "demo-1.0.dist-info/RECORD" in paths
    # identical content from two members is one object
    shas = [f.sha256 for f in manifest.files if f.path.startswith("demo/same")]
    assert shas[0] == shas[1]
    wheel_sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert manifest.wheel_sha256 == wheel_sha
    stored = store.manifest_path(wheel_sha).read_text()
    assert WheelManifest.from_json(stored) == manifest
    # a second add (even from a fresh Store object) does no zip work at all
    def no_zip(*args: object, **kwargs: object) -> None:
        raise AssertionError("the zip was opened again")

    monkeypatch.setattr(zipfile, "ZipFile", no_zip)
    assert Store(tmp_path / "s").add_wheel(wheel) == manifest
    assert store.info().wheels == 1


def test_add_wheel_expected_hash_mismatch(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    store = Store(tmp_path / "s")
    with pytest.raises(HashMismatchError, match=wheel.name):
        store.add_wheel(wheel, expected_sha256="ab" * 32)
    assert store.info().wheels == 0


def test_expanded_tags(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, tag="py2.py3-none-any")
    assert Store(tmp_path / "s").add_wheel(wheel).tags == ("py2-none-any", "py3-none-any")


def test_record_mismatch_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, tamper={"demo/__init__.py": b"EVIL = 1\n"})
    store = Store(tmp_path / "s")
    with pytest.raises(WheelError, match=r"RECORD says demo/__init__\.py"):
        store.add_wheel(wheel)
    assert store.info().wheels == 0


@pytest.mark.parametrize("member", ["../evil.py", "/etc/evil", "demo/../../evil.py"])
def test_escaping_entries_refused(tmp_path: Path, member: str) -> None:
    wheel = make_wheel(tmp_path, raw_members={member: b"x"})
    with pytest.raises(WheelError, match="outside"):
        Store(tmp_path / "s").add_wheel(wheel)


def test_symlink_entry_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with zipfile.ZipFile(wheel, "a") as archive:
        info = zipfile.ZipInfo("demo/link")
        info.external_attr = 0o120777 << 16
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(WheelError, match="symlink"):
        Store(tmp_path / "s").add_wheel(wheel)


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "bad-1.0-py3-none-any.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WheelError, match=r"bad-1\.0"):
        Store(tmp_path / "s").add_wheel(bad)


def test_verify_reports_and_removes_corrupt(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    store = Store(tmp_path / "s")
    manifest = store.add_wheel(wheel)
    victim = manifest.files[0]
    path = store.object_path(victim.sha256)
    os.chmod(path, 0o644)
    path.write_bytes(b"bit rot")
    report = store.verify()
    assert report.corrupt == (victim.sha256,)
    assert path.exists()
    report = store.verify(remove=True)
    assert report.corrupt == (victim.sha256,)
    assert not path.exists()
    assert store.verify().corrupt == ()
    # the manifest no longer counts as stored; adding again repairs the object
    assert store.get_manifest(manifest.wheel_sha256) is None
    assert store.add_wheel(wheel) == manifest
    assert path.read_bytes() != b"bit rot"


def test_clean(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    store.add_wheel(make_wheel(tmp_path))
    store.clean()
    assert not (tmp_path / "s").exists()
    assert store.info().objects == 0


_FILL = """
import sys
from pathlib import Path
from ghostenv.store import Store
sys.stdin.readline()
m = Store(Path(sys.argv[1])).add_wheel(Path(sys.argv[2]))
print(len(m.files))
"""


def test_two_processes_fill_the_store_at_once(tmp_path: Path) -> None:
    files = {f"big/mod{i}.py": os.urandom(2000) for i in range(300)}
    wheel = make_wheel(tmp_path, name="big", files=files)
    root = tmp_path / "s"
    procs = [subprocess.Popen([sys.executable, "-c", _FILL, str(root), str(wheel)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(3)]
    for proc in procs:  # release them together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs)
    assert {out.strip() for out in outs} == {str(len(files) + 3)}
    store = Store(root)
    assert store.verify().corrupt == ()
    assert store.info().wheels == 1
    assert store.info().objects == len(files) + 3
    assert list((root / "tmp").iterdir()) == []


def test_verify_remove_deletes_stale_temp_files(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    store.put_bytes(b"x")
    stale, fresh = store.tmp / "obj-dead", store.tmp / "obj-live"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    store.verify()
    assert stale.exists()
    store.verify(remove=True)
    assert not stale.exists()
    assert fresh.exists()


def test_add_wheel_stream(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "streamed")
    data = wheel.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    store = Store(tmp_path / "s")
    pieces = [data[i:i + 1000] for i in range(0, len(data), 1000)]
    with pytest.raises(HashMismatchError) as info:
        store.add_wheel_stream(iter(pieces), wheel.name, expected_sha256="f" * 64)
    assert wheel.name in str(info.value)
    assert sha in str(info.value)
    assert list(store.tmp.iterdir()) == []
    manifest = store.add_wheel_stream(iter(pieces), wheel.name, expected_sha256=sha)
    assert manifest.filename == wheel.name
    assert manifest.wheel_sha256 == sha
    assert store.get_manifest(sha) == manifest
    assert list(store.tmp.iterdir()) == []


_SEGMENTS = st.sampled_from(["a", "b.py", "..", ".", "", "C:", "x\\..\\..", "/"])


@settings(max_examples=300, deadline=None)
@given(st.lists(_SEGMENTS, min_size=1, max_size=6))
def test_member_paths_are_refused_or_stay_inside(parts: list[str]) -> None:
    from ghostenv.store.wheelfile import safe_member_path

    name = "/".join(parts)
    base = "/env/site-packages"
    try:
        path = safe_member_path(name, "w.whl")
    except WheelError:
        return
    joined = os.path.normpath(os.path.join(base, path))
    assert os.path.commonpath([base, joined]) == base


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=70))
def test_record_hash_few_spells_digests_as_record_hash(data: bytes) -> None:
    import base64

    from ghostenv.store.manifest import record_hash, record_hash_few

    want = "sha256=" + base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert record_hash_few(data.hex()) == want
    assert record_hash(data.hex()) == want
