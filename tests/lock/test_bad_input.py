"""What uv rejects, ghostenv rejects: one LockError naming the place, the line and the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghostenv.errors import LockError
from ghostenv.lock.read import loads, read_lock
from ghostenv.lock.write import write_atomic

REPO = Path(__file__).resolve().parents[2]
HELLO = (REPO / "examples" / "hello" / "uv.lock").read_text(encoding="utf-8")


def _error(text: str) -> str:
    with pytest.raises(LockError) as info:
        loads(text, filename="uv.lock")
    return info.value.message


def test_malformed_toml() -> None:
    message = _error(HELLO.replace('name = "idna"', 'name = "idna'))
    assert message.startswith("uv.lock: invalid TOML")
    assert "line" in message


def test_version_two() -> None:
    message = _error(HELLO.replace("version = 1\n", "version = 2\n", 1))
    assert message == (
        "uv.lock:1: `version`: unsupported schema version (v2, but only v1 is supported)"
    )


def test_package_without_source() -> None:
    lines = HELLO.splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("source = { registry"))
    del lines[index]
    message = _error("".join(lines))
    assert "`package[0]`" in message
    assert "no `source` field" in message
    assert message.startswith(f"uv.lock:{index - 2}:")


def test_dependency_naming_missing_package() -> None:
    text = HELLO.replace('{ name = "idna" }', '{ name = "nosuchpkg" }', 1)
    message = _error(text)
    assert "`package[" in message
    assert ".dependencies[" in message
    assert "nosuchpkg" in message
    line = int(message.split(":")[1])
    assert 'name = "nosuchpkg"' in text.splitlines()[line - 1]


def test_registry_package_without_version() -> None:
    text = HELLO.replace('name = "idna"\nversion = "3.20"\n', 'name = "idna"\n')
    assert "has no `version`" in _error(text)


def test_wheel_version_mismatch_names_the_wheel() -> None:
    text = HELLO.replace("idna-3.20-py3-none-any.whl", "idna-3.19-py3-none-any.whl")
    message = _error(text)
    assert "wheels[0]" in message
    line = int(message.split(":")[1])
    assert "idna-3.19-py3-none-any.whl" in text.splitlines()[line - 1]


def test_url_wheel_without_hash() -> None:
    text = (REPO / "fixtures" / "locks" / "sources" / "uv.lock").read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.startswith('    { url = "http://127.0.0.1'))
    lines[i] = lines[i].split(", hash")[0] + " },\n"
    message = _error("".join(lines))
    assert ".wheels[0].hash" in message
    assert message.startswith(f"uv.lock:{i + 1}:")


def test_unquoted_datetime_upload_time() -> None:
    text = HELLO.replace(
        'upload-time = "2026-09-17T14:11:03.168Z"', "upload-time = 2026-09-17T14:11:03Z"
    )
    message = _error(text)
    assert "upload-time" in message
    assert "datetime" in message


def test_ambiguous_dependency() -> None:
    fork = Path("/work/shared/packse/uv-locks") / "fork-basic.uv.lock"
    if not fork.exists():
        pytest.skip("packse data absent")
    text = fork.read_text(encoding="utf-8")
    text = text.replace(
        ', version = "1.0.0", source = { registry = "http://127.0.0.1:3141/simple-html/" }', "", 1
    )
    assert "more than one" in _error(text)


def test_lenient_missing_revision_and_hashes() -> None:
    text = HELLO.replace("revision = 5\n", "")
    lock = loads(text)
    assert lock.revision == 0


def test_read_lock_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LockError, match="cannot read"):
        read_lock(tmp_path / "uv.lock")


def test_atomic_write_replaces(tmp_path: Path) -> None:
    target = tmp_path / "uv.lock"
    target.write_text("old\n", encoding="utf-8")
    write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uv.lock"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_atomic_write_failure_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "uv.lock"
    target.write_text("old\n", encoding="utf-8")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(LockError):
            write_atomic(target, "new\n")
    finally:
        tmp_path.chmod(0o700)
    assert target.read_text(encoding="utf-8") == "old\n"


def test_atomic_write_disk_full_leaves_old_file(tmp_path: Path) -> None:
    """A write that fails half way (file size limit, like a full disk) keeps the old lock."""
    target = tmp_path / "uv.lock"
    target.write_text(HELLO, encoding="utf-8")
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from ghostenv.errors import LockError\n"
        "from ghostenv.lock.write import write_atomic\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "try:\n"
        "    write_atomic(Path(sys.argv[1]), 'x' * 100000)\n"
        "except LockError as exc:\n"
        "    print(exc.message)\n"
        "    sys.exit(1)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(target)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "cannot write" in proc.stdout
    assert target.read_text(encoding="utf-8") == HELLO
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uv.lock"]


def test_atomic_write_failure_midway_leaves_old_file(tmp_path: Path) -> None:
    target = tmp_path / "uv.lock"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \udc80 surrogate\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uv.lock"]
