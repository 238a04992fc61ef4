"""Executable members are objects of their own (mode 0555): shared by envs, pruned, verified."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ghostenv.store import Store
from tests.store.wheelbuild import make_wheel

SO = b"\x7fELF pretend shared object\n"


def _wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path, "native", files={"native/__init__.py": b"",
                                                  "native/_ext.so": SO,
                                                  "native/copy.txt": SO},
                      executable={"native/_ext.so"})


def test_same_bytes_executable_and_not_are_two_objects(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    manifest = store.add_wheel(_wheel(tmp_path))
    ext = next(f for f in manifest.files if f.path == "native/_ext.so")
    txt = next(f for f in manifest.files if f.path == "native/copy.txt")
    assert ext.sha256 == txt.sha256
    assert ext.executable
    assert not txt.executable
    exe, plain = Path(store.member_path(ext)), Path(store.member_path(txt))
    assert exe != plain
    assert stat.S_IMODE(exe.stat().st_mode) == 0o555
    assert stat.S_IMODE(plain.stat().st_mode) == 0o444
    assert exe.read_bytes() == plain.read_bytes() == SO


def test_prune_and_verify_cover_executable_objects(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    manifest = store.add_wheel(_wheel(tmp_path))
    exe = Path(store.member_path(next(f for f in manifest.files if f.executable)))
    os.chmod(exe, 0o755)
    exe.write_bytes(b"rot")
    report = store.verify()
    assert len(report.corrupt) == 1
    assert store.get_manifest(manifest.wheel_sha256) is not None  # still listed...
    store.verify(remove=True)
    assert store.get_manifest(manifest.wheel_sha256) is None  # ...until removed: re-unpack
    store.add_wheel(_wheel(tmp_path))
    assert exe.read_bytes() == SO
    pruned = store.prune()  # no environment uses it
    assert pruned.wheels == 1
    assert not exe.exists()
    assert not list(store.iter_objects(executables=True))


def test_old_store_gets_an_executable_twin(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    sha = store.put_bytes(SO)  # only the plain object, as stores made before the exec tree
    twin = Path(store.executable_object(sha))
    assert twin.read_bytes() == SO
    assert stat.S_IMODE(twin.stat().st_mode) == 0o555
    assert store.executable_object(sha) == str(twin)
