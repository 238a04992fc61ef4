"""Property tests: random archives read through LocalZip agree with ``zipfile``."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghostenv.errors import WheelError
from ghostenv.wheel.zipreader import LocalHeaderScanner, LocalZip

names = st.lists(
    st.from_regex(r"[a-z][a-z0-9_]{0,12}(/[a-z0-9_.]{1,10}){0,2}", fullmatch=True)
    .filter(lambda n: ".." not in n.split("/")),
    min_size=1, max_size=25, unique=True,
)
payload = st.one_of(st.binary(max_size=3000),
                    st.integers(0, 70_000).map(lambda n: bytes(i % 7 for i in range(n))))


@st.composite
def archives(draw: st.DrawFn) -> tuple[bytes, dict[str, bytes]]:
    members = {n: draw(payload) for n in draw(names)}
    comment = draw(st.one_of(st.just(b""), st.binary(max_size=300),
                             st.binary(min_size=60_000, max_size=65_535))
                   .filter(lambda c: b"PK\x05\x06" not in c))  # zipfile trips on those
    zip64 = draw(st.booleans())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=zip64) as fh:
                fh.write(data)
        zf.comment = comment
    return buf.getvalue(), members


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(archives())
def test_random_archives_agree_with_zipfile(tmp_path_factory: pytest.TempPathFactory,
                                            archive: tuple[bytes, dict[str, bytes]]) -> None:
    blob, members = archive
    path = tmp_path_factory.mktemp("zip") / "a.zip"
    path.write_bytes(blob)
    with zipfile.ZipFile(path) as ref, LocalZip(path) as ours:
        assert [e.name for e in ours.entries] == ref.namelist()
        for entry, info in zip(ours.entries, ref.infolist(), strict=True):
            assert entry.header_offset == info.header_offset
            assert entry.compressed_size == info.compress_size
            assert ours.read(entry) == ref.read(info) == members[entry.name]


def test_many_entries_force_zip64_end_records(tmp_path: Path) -> None:
    """Over 65,535 entries: zipfile writes Zip64 end records; we must follow them."""
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(70_000):
            zf.writestr(f"d/{i}", b"")
        zf.writestr("last.txt", b"the end")
    with LocalZip(path) as ours:
        assert len(ours.entries) == 70_001
        assert ours.read(ours.entries[-1]) == b"the end"
        assert ours.directory.entries == 70_001


def test_comment_holding_a_fake_end_record(tmp_path: Path) -> None:
    """A comment containing ``PK\\5\\6`` must not be taken for the end record.

    (``zipfile`` itself is fooled by this one, so we compare with the payload.)
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"payload")
        zf.comment = b"PK\x05\x06" + b"x" * 40
    path = tmp_path / "c.zip"
    path.write_bytes(buf.getvalue())
    with LocalZip(path) as ours:
        assert ours.read(ours.entries[0]) == b"payload"


def test_prefixed_archive_is_read_like_zipfile(tmp_path: Path) -> None:
    """Bytes prepended to an archive (self-extractor style) shift every offset."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.txt", b"hello" * 100)
    path = tmp_path / "pre.zip"
    path.write_bytes(b"#!/bin/sh\nexit 0\n" + buf.getvalue())
    with LocalZip(path) as ours, zipfile.ZipFile(path) as ref:
        assert ours.read(ours.entries[0]) == ref.read("a.txt")


@pytest.mark.parametrize("cut", [1, 10, 22, 60, 200])
def test_truncated_archive_is_a_wheel_error(tmp_path: Path, cut: int) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", b"hello" * 100)
    path = tmp_path / "cut.zip"
    path.write_bytes(buf.getvalue()[:-cut])
    with pytest.raises(WheelError):
        LocalZip(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
@given(archives(), st.data())
def test_streaming_scanner_finds_members_like_zipfile(
        archive: tuple[bytes, dict[str, bytes]], data: st.DataObject) -> None:
    """Fed in random chunks, the scanner yields exactly the wanted member's bytes."""
    blob, members = archive
    wanted = data.draw(st.sampled_from(sorted(members)))
    scanner = LocalHeaderScanner(lambda name: name == wanted, "a.zip")
    pos, found = 0, None
    while pos < len(blob) and found is None and scanner.possible:
        step = data.draw(st.integers(1, 50_000))
        found = scanner.feed(blob[pos:pos + step])
        pos += step
    # It either gives up (Zip64 sizes in local headers) or finds the right bytes.
    assert found is not None or not scanner.possible
    if found is not None:
        assert found == members[wanted]
    if b"\x01\x00" not in blob:  # no Zip64 extra anywhere: it must not give up
        assert found == members[wanted]


@pytest.mark.parametrize(("name", "safe"), [
    ("pkg/a..b.txt", True), ("pkg/...", True), ("pkg/../x", False), ("..", False),
    ("pkg/..", False), ("C:/x", False), ("pkg\\x", False), ("/abs", False),
])
def test_name_safety(tmp_path: Path, name: str, safe: bool) -> None:
    path = tmp_path / "n.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", b"x")
        zf.writestr(zipfile.ZipInfo(name), b"y")
    if safe:
        with LocalZip(path) as ours:
            assert ours.central.names[-1] == name
    else:
        with pytest.raises(WheelError, match=r"escapes|absolute"):
            LocalZip(path)
