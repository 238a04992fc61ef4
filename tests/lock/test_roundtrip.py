"""Byte-identical round trip of locks written by real uv (packse scenarios, workloads, sources)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostenv.lock.read import loads, read_lock
from ghostenv.lock.write import dumps

REPO = Path(__file__).resolve().parents[2]
PACKSE_LOCKS = Path("/work/shared/packse/uv-locks")
FIXTURE_LOCKS = sorted((REPO / "fixtures" / "locks").glob("*/uv.lock"))
PACKSE = sorted(PACKSE_LOCKS.glob("*.lock")) if PACKSE_LOCKS.is_dir() else []


def _assert_round_trip(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lock = loads(text, filename=str(path))
    assert dumps(lock) == text
    assert read_lock(path) == lock


@pytest.mark.skipif(not PACKSE, reason="packse data absent")
@pytest.mark.parametrize("path", PACKSE, ids=lambda p: p.name)
def test_packse_lock_round_trips(path: Path) -> None:
    _assert_round_trip(path)


def test_packse_has_all_locks() -> None:
    if not PACKSE_LOCKS.is_dir():
        pytest.skip("packse data absent")
    assert len(PACKSE) == 36


@pytest.mark.parametrize("path", FIXTURE_LOCKS, ids=lambda p: p.parent.name)
def test_fixture_lock_round_trips(path: Path) -> None:
    _assert_round_trip(path)


def test_fixture_locks_present() -> None:
    names = {p.parent.name for p in FIXTURE_LOCKS}
    assert {"web", "data", "big"} <= names


def test_example_hello_round_trips() -> None:
    _assert_round_trip(REPO / "examples" / "hello" / "uv.lock")


def test_dependency_ids_are_filled_in() -> None:
    lock = read_lock(REPO / "fixtures" / "locks" / "web" / "uv.lock")
    names = {p.name for p in lock.packages}
    for package in lock.packages:
        for dep in package.dependencies:
            assert dep.name in names
            assert dep.source is not None
            assert (dep.name, dep.version, dep.source) in {p.id for p in lock.packages}


def test_reformatted_lock_reads_equal_and_writes_canonical() -> None:
    path = REPO / "examples" / "hello" / "uv.lock"
    text = path.read_text(encoding="utf-8")
    messy = "# a comment\r\n" + text.replace(" = ", "=").replace("\n", "\r\n")
    messy = messy.replace("upload-time", "upload_time").replace("[package", "[distribution")
    messy = messy.replace("revision=5", "revision=5\r\nunknown-key = 3")
    lock = loads(messy)
    assert lock == loads(text)
    assert dumps(lock) == text


OLD_REVISION_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.12"

[manifest]

[manifest.dependency-groups]
dev = [{ name = "iniconfig" }]
empty = []

[[package]]
name = "iniconfig"
version = "2.3.1"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/iniconfig-2.3.1.tar.gz", hash = "sha256:00", size = 4 }
wheels = [
    { url = "https://files.example/iniconfig-2.3.1-py3-none-any.whl", hash = "sha256:01" },
]
"""


@pytest.mark.parametrize("revision", ["revision = 3\n", ""])
def test_older_revisions_and_bare_manifest_header_round_trip(revision: str) -> None:
    text = OLD_REVISION_LOCK.replace("revision = 3\n", revision)
    lock = loads(text)
    assert lock.revision == (3 if revision else 0)
    assert lock.manifest is not None
    assert lock.manifest.header
    assert dumps(lock) == text


def test_dependency_groups_alias_reads_as_dev_dependencies() -> None:
    text = (REPO / "examples" / "hello" / "uv.lock").read_text(encoding="utf-8")
    lock = loads(text.replace("[package.dev-dependencies]", "[package.dependency-groups]"))
    assert dumps(lock) == text
