"""The remembered selection of the fresh-environment sync (``frozen_select.locked_wheels``).

The memo must give exactly what selecting from the lock gives now: the same
wheels for the same inputs, and a new answer as soon as the lock, the groups
or the interpreter differ. Real lock fixtures, a real :class:`Interpreter`.
"""

from __future__ import annotations

import marshal
import os
import shutil
import tomllib
from typing import TYPE_CHECKING, Any

import pytest

from ghostenv.discover.interpreter import Interpreter
from ghostenv.lock.scan import scan
from ghostenv.workflow import frozen_select
from ghostenv.workflow.frozen_python import Fallback
from tests.conftest import REPO
from tests.workflow.test_fast_markers import ENVS
from tests.workflow.test_frozen_select import TAGS

if TYPE_CHECKING:
    from pathlib import Path

LINUX = {k: v for k, v in ENVS[0].items() if k != "extra"}
NAME = "workload-web"


def _interpreter(tags: list[str], markers: dict[str, str] | None = None) -> Interpreter:
    return Interpreter(
        path_str="/usr/bin/python3.12", version=(3, 12, 1), release_level="final", serial=0,
        implementation="cpython", implementation_version="3.12.1", abiflags="",
        prefix_str="/usr", base_prefix_str="/usr", executable_str="/usr/bin/python3.12",
        base_executable_str="/usr/bin/python3.12", platform="linux-x86_64", pointer_bits=64,
        markers=markers or LINUX, paths={}, config_vars={}, tag_cache=tuple(tags))


def _read(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    return scan(text) or tomllib.loads(text)


def _direct(project: Path, interp: Interpreter, groups: list[str]) -> list[str]:
    """What selecting from the lock gives (no memo)."""
    return _direct_sizes(project, interp, groups)[0]


def _direct_sizes(project: Path, interp: Interpreter,
                  groups: list[str]) -> tuple[list[str], list[int | None]]:
    doc = _read(str(project / "uv.lock"))
    packages = doc["package"]
    chosen = frozen_select.select(packages, doc, NAME, env={**interp.markers, "extra": ""},
                                  groups=groups, extras=[], all_groups=False, all_extras=False)
    rank = {tag: i for i, tag in enumerate(interp.tag_cache)}
    files = [frozen_select.wheel(packages[i], rank).filename for i in chosen]
    return files, [frozen_select.size(packages[i], f) for i, f in zip(chosen, files, strict=True)]


def _call(project: Path, cache: Path, interp: Interpreter, groups: list[str],
          read: Any = _read) -> tuple[list[str], list[int | None]]:
    wanted, sizes = frozen_select.locked_wheels(
        str(project), NAME, interp, groups=groups, extras=[], all_groups=False,
        all_extras=False, cache_dir=str(cache), read=read)
    assert all(w.requested and w.sha256 and w.url for w in wanted)
    return ([w.filename for w in wanted],
            [frozen_select.size(sizes[w.filename], w.filename) for w in wanted])


def _never(path: str) -> dict[str, Any]:
    raise AssertionError(f"read {path}: the memo should have answered")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    target = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "locks" / "web", target)
    return target


def test_the_memo_gives_what_the_lock_gives_until_an_input_changes(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frozen_select, "RACY_NS", 0)  # the lock was copied just now
    cache = tmp_path / "cache"
    interp = _interpreter(TAGS["linux"])
    lock = project / "uv.lock"
    text = lock.read_text("utf-8")  # give the wheels sizes (the fixture has none), as uv does
    lock.write_text(text.replace('.whl", hash = "', '.whl", size = 1234, hash = "'), "utf-8")
    first = _call(project, cache, interp, ["dev"])
    assert first == _direct_sizes(project, interp, ["dev"])
    assert first[1] == [1234] * len(first[1])  # sizes for the download display
    assert len(list((cache / "select-v1").iterdir())) == 1
    assert _call(project, cache, interp, ["dev"], read=_never) == first  # remembered

    # another selection or interpreter: its own answer, never the memo's
    assert _call(project, cache, interp, [])[0] == _direct(project, interp, [])
    assert _call(project, cache, interp, [], read=_never)[0] == _direct(project, interp, [])
    older = {**LINUX, "python_full_version": "3.9.18", "python_version": "3.9"}
    other = _interpreter(TAGS["linux"], older)
    assert _call(project, cache, other, ["dev"])[0] == _direct(project, other, ["dev"])
    assert _call(project, cache, other, ["dev"])[0] != first[0]  # click 8.1.8 below 3.10

    # the lock rewritten (same size: one version digit swapped) and its mtime set back to
    # what the memo saw: the ctime still differs, so the lock is read again
    text = lock.read_text("utf-8")
    changed = text.replace('version = "8.1.8"', 'version = "8.1.9"')
    assert changed != text
    assert len(changed) == len(text)
    before = lock.stat()
    lock.write_text(changed, "utf-8")
    os.utime(lock, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert lock.stat().st_ino == before.st_ino
    with pytest.raises(Fallback):  # no wheel of click 8.1.9 in the lock: the full path decides
        _call(project, cache, other, ["dev"])
    lock.write_text(text, "utf-8")
    assert _call(project, cache, interp, ["dev"])[0] == first[0]


def test_a_lock_written_just_now_is_not_remembered(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    interp = _interpreter(TAGS["linux"])
    (project / "uv.lock").write_bytes((project / "uv.lock").read_bytes())  # ctime: now
    first = _call(project, cache, interp, ["dev"])
    assert not (cache / "select-v1").exists()
    assert _call(project, cache, interp, ["dev"]) == first


def test_fallbacks_and_damaged_memos(project: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frozen_select, "RACY_NS", 0)
    cache = tmp_path / "cache"
    with pytest.raises(Fallback):  # no tags recorded for the interpreter
        _call(project, cache, _interpreter([]), ["dev"])
    with pytest.raises(Fallback):  # no wheel fits: a build, for the full path
        _call(project, cache, _interpreter(["cp27-cp27m-win32"]), ["dev"])
    assert not (cache / "select-v1").exists()
    interp = _interpreter(TAGS["linux"])
    first = _call(project, cache, interp, ["dev"])
    for memo in (cache / "select-v1").iterdir():
        memo.write_bytes(b"\x00damaged")
    assert _call(project, cache, interp, ["dev"]) == first
    assert _call(project, cache, interp, ["dev"], read=_never) == first
    for memo in (cache / "select-v1").iterdir():  # the right key, rows of another shape
        fmt, signature, key, _rows, digest = marshal.loads(memo.read_bytes())
        memo.write_bytes(marshal.dumps((fmt, signature, key, (("only", "three", "fields"),),
                                        digest)))
    assert _call(project, cache, interp, ["dev"]) == first
    assert _call(project, cache, interp, ["dev"], read=_never) == first


def test_lock_input_is_what_the_gate_would_record(project: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from ghostenv.workflow import gate

    lock = project / "uv.lock"
    lock.write_bytes(lock.read_bytes())  # written just now: racy, no digest vouched for
    interp = _interpreter(TAGS["linux"])
    _call(project, tmp_path / "cache", interp, ["dev"])
    assert frozen_select.lock_input(str(project)) is None
    monkeypatch.setattr(frozen_select, "RACY_NS", 0)
    for _ in range(2):  # computed, then from the memo
        _call(project, tmp_path / "cache", interp, ["dev"])
        want = (gate._stat(str(lock)), gate._sha256(str(lock)))
        assert frozen_select.lock_input(str(project)) == want
    lock.write_bytes(lock.read_bytes() + b"\n")  # changed since: the gate hashes it itself
    assert frozen_select.lock_input(str(project)) is None
    assert frozen_select.lock_input(str(tmp_path / "elsewhere")) is None
