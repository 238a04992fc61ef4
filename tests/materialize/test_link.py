"""Link modes on real filesystems: the machine's own, and a loop-mounted XFS with reflink.

The XFS image needs root, ``mkfs.xfs`` and loop devices; without them the
reflink tests skip and only the fallback path is exercised (which is what the
default ext4/overlay filesystems of most CI machines give anyway).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ghostenv.materialize.link import Linker, LinkMode, clone_file, copy_file, mode_from_env, place
from tests.conftest import run_ghostenv


def _clone_works(directory: Path) -> bool:
    src = directory / ".probe-src"
    src.write_bytes(b"probe")
    try:
        clone_file(src, directory / ".probe-dst")
    except OSError:
        return False
    finally:
        src.unlink()
        (directory / ".probe-dst").unlink(missing_ok=True)
    return True


@pytest.fixture(scope="module")
def xfs_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A freshly made XFS (reflink=1) filesystem on a loop device, unmounted afterwards."""
    if os.geteuid() != 0 or not shutil.which("mkfs.xfs"):
        pytest.skip("needs root and mkfs.xfs to make a reflink filesystem")
    base = tmp_path_factory.mktemp("xfs")
    image, mount = base / "fs.img", base / "mnt"
    mount.mkdir()
    with open(image, "wb") as handle:
        handle.truncate(320 << 20)
    made = subprocess.run(["mkfs.xfs", "-q", "-f", "-m", "reflink=1", str(image)],
                          capture_output=True, check=False)
    mounted = made.returncode == 0 and subprocess.run(
        ["mount", "-o", "loop", str(image), str(mount)], capture_output=True, check=False,
    ).returncode == 0
    if not mounted:
        image.unlink()
        pytest.skip("cannot mount a loop device here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        image.unlink()


def _file(path: Path, size: int = 1 << 16) -> Path:
    path.write_bytes(os.urandom(size))
    os.chmod(path, 0o444)  # like a store object
    return path


def test_place_hardlink_copy_symlink(tmp_path: Path) -> None:
    src = _file(tmp_path / "obj")
    place(src, tmp_path / "h", LinkMode.HARDLINK)
    assert os.stat(tmp_path / "h").st_ino == src.stat().st_ino
    place(src, tmp_path / "c", LinkMode.COPY)
    assert os.stat(tmp_path / "c").st_ino != src.stat().st_ino
    assert (tmp_path / "c").read_bytes() == src.read_bytes()
    assert os.access(tmp_path / "c", os.W_OK)
    place(src, tmp_path / "s", LinkMode.SYMLINK)
    assert os.readlink(tmp_path / "s") == str(src)
    # an existing destination is replaced, not an error
    place(src, tmp_path / "c", LinkMode.HARDLINK)
    assert os.stat(tmp_path / "c").st_ino == src.stat().st_ino


def test_copy_file_large(tmp_path: Path) -> None:
    src = _file(tmp_path / "big", 5 << 20)
    copy_file(src, tmp_path / "dup")
    assert (tmp_path / "dup").read_bytes() == src.read_bytes()


def test_default_chain_probes_once_and_reports_once(tmp_path: Path) -> None:
    messages: list[str] = []
    linker = Linker(None, on_fallback=messages.append)
    srcs = [_file(tmp_path / f"o{i}", 100) for i in range(20)]
    (tmp_path / "env").mkdir()
    used = {linker.link(s, tmp_path / "env" / s.name) for s in srcs}
    if _clone_works(tmp_path):
        assert used == {LinkMode.CLONE}
        assert messages == []
    else:
        assert used == {LinkMode.HARDLINK}
        assert len(messages) == 1
        assert "clone not possible" in messages[0]
        assert "hardlink" in messages[0]
    for s in srcs:
        assert (tmp_path / "env" / s.name).read_bytes() == s.read_bytes()


def test_explicit_clone_falls_back_to_copy_and_says_so(tmp_path: Path) -> None:
    if _clone_works(tmp_path):
        pytest.skip("this filesystem supports reflink; the xfs tests cover clone")
    messages: list[str] = []
    linker = Linker(LinkMode.CLONE, on_fallback=messages.append)
    src = _file(tmp_path / "o")
    assert linker.link(src, tmp_path / "a") is LinkMode.COPY
    assert linker.link(src, tmp_path / "b") is LinkMode.COPY
    assert len(messages) == 1
    assert "Operation not supported" in messages[0] or "not possible" in messages[0]


def test_writable_files_are_never_hardlinked(tmp_path: Path) -> None:
    linker = Linker(LinkMode.HARDLINK)
    src = _file(tmp_path / "o")
    used = linker.link(src, tmp_path / "x", writable=True)
    assert used is LinkMode.COPY
    assert os.stat(tmp_path / "x").st_ino != src.stat().st_ino


def test_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GHOSTENV_LINK_MODE", "copy")
    assert mode_from_env() is LinkMode.COPY
    src = _file(tmp_path / "o")
    assert Linker().link(src, tmp_path / "x") is LinkMode.COPY
    monkeypatch.setenv("GHOSTENV_LINK_MODE", "teleport")
    with pytest.raises(ValueError, match="teleport"):
        mode_from_env()


def test_clone_on_xfs_shares_blocks(xfs_dir: Path) -> None:
    src = _file(xfs_dir / "obj", 16 << 20)
    os.sync()
    before = os.statvfs(xfs_dir).f_bfree
    messages: list[str] = []
    linker = Linker(None, on_fallback=messages.append)
    assert linker.link(src, xfs_dir / "clone") is LinkMode.CLONE
    os.sync()
    after = os.statvfs(xfs_dir).f_bfree
    assert messages == []
    assert (before - after) * os.statvfs(xfs_dir).f_frsize < (1 << 20)  # not 16 MiB
    clone = xfs_dir / "clone"
    assert clone.stat().st_ino != src.stat().st_ino
    with open(clone, "r+b") as handle:  # writing the clone leaves the store object alone
        handle.write(b"changed")
    assert src.read_bytes()[:7] != b"changed"


def test_cross_filesystem_hardlink_falls_back_to_copy(xfs_dir: Path, tmp_path: Path) -> None:
    src = _file(xfs_dir / "cross")
    with pytest.raises(OSError, match="cross-device") as info:
        os.link(src, tmp_path / "probe")
    assert info.value.errno == errno.EXDEV
    messages: list[str] = []
    linker = Linker(None, on_fallback=messages.append)
    assert linker.link(src, tmp_path / "x") is LinkMode.COPY
    assert len(messages) == 1


def test_cp_cli_reports_fallback(tmp_path: Path) -> None:
    if _clone_works(tmp_path):
        pytest.skip("this filesystem supports reflink")
    (tmp_path / "a").write_bytes(os.urandom(100_000))
    proc = run_ghostenv("cp", str(tmp_path / "a"), str(tmp_path / "b"), "--mode", "clone",
                        check=True)
    assert "clone not possible" in proc.stderr
    assert "1 by copy" in proc.stdout
    assert "bytes copied 0 B" not in proc.stdout
    assert (tmp_path / "b").read_bytes() == (tmp_path / "a").read_bytes()


def test_cp_cli_tree_hardlink(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for i in range(5):
        (tree / "sub" / f"f{i}").write_bytes(os.urandom(5000))
    (tree / "link").symlink_to("sub/f0")
    proc = run_ghostenv("cp", str(tree), str(tmp_path / "out"), "--mode", "hardlink", check=True)
    assert "5 by hardlink" in proc.stdout
    assert "1 by symlink" in proc.stdout
    assert "bytes copied 0 B" in proc.stdout
    for i in range(5):
        copied = tmp_path / "out" / "sub" / f"f{i}"
        assert copied.stat().st_ino == (tree / "sub" / f"f{i}").stat().st_ino
    assert os.readlink(tmp_path / "out/link") == "sub/f0"
    again = run_ghostenv("cp", str(tree), str(tmp_path / "out"), "--mode", "copy")
    assert again.returncode == 0  # out exists as a dir: copies into out/tree
    assert (tmp_path / "out" / "tree" / "sub" / "f1").exists()


def test_cp_cli_clone_on_xfs(xfs_dir: Path) -> None:
    (xfs_dir / "cpsrc").write_bytes(os.urandom(8 << 20))
    proc = run_ghostenv("cp", str(xfs_dir / "cpsrc"), str(xfs_dir / "cpdst"), "--mode", "clone",
                        check=True)
    assert "1 by clone" in proc.stdout
    assert "bytes copied 0 B" in proc.stdout
    assert "not possible" not in proc.stderr
