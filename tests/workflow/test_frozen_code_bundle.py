"""The code bundle of the fresh-environment sync (``ghostenv._CodeBundle``).

A copy of the package is imported in subprocesses: the first import of the
engine modules writes the bundle, later ones load from it, and a module whose
source changes is imported from its new source at once (as a ``.pyc`` would be
refreshed) -- never the bundled old code.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.conftest import REPO

if TYPE_CHECKING:
    from pathlib import Path

SHOW = """
import ghostenv.materialize.install, ghostenv.workflow.frozen_select, ghostenv.store.cas
import ghostenv.store as store
print(type(ghostenv.store.cas.__spec__.loader).__name__)
print(ghostenv.store.cas.__file__ == ghostenv.store.cas.__spec__.origin)
print(store.__path__[0].endswith("store"), getattr(ghostenv.store.cas, "MARK", None))
"""


def _run(root: Path, *, extra: dict[str, str] | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE",
                                                          "GHOSTENV_NO_CODE_BUNDLE")}
    env.update(PYTHONPATH=str(root), **(extra or {}))
    proc = subprocess.run([sys.executable, "-c", SHOW], capture_output=True, text=True,
                          env=env, cwd=root, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "src"
    shutil.copytree(REPO / "src" / "ghostenv", root / "ghostenv",
                    ignore=shutil.ignore_patterns("fastpath.*"))
    tag = sys.implementation.cache_tag
    return root, root / "ghostenv" / "__pycache__" / f"fastpath.{tag}.bin"


def _stamp(bundle: Path) -> int:
    return bundle.stat().st_mtime_ns if bundle.exists() else 0


def test_bundle_is_written_used_and_refreshed_when_a_source_changes(tmp_path: Path) -> None:
    root, bundle = _copy(tmp_path)
    assert _run(root) == ["_CodeBundle", "True", "True", "None"]  # misses: the usual code
    written = _stamp(bundle)
    assert written
    assert _run(root) == ["_CodeBundle", "True", "True", "None"]  # from the bundle ...
    assert _stamp(bundle) == written  # ... which had everything: not written again

    cas = root / "ghostenv" / "store" / "cas.py"
    cas.write_text(cas.read_text("utf-8") + "\nMARK = 'new'\n", "utf-8")
    assert _run(root)[3] == "new"  # the new source at once
    assert _stamp(bundle) != written  # and the entry refreshed
    written = _stamp(bundle)
    assert _run(root)[3] == "new"
    assert _stamp(bundle) == written

    # the same size, another mtime (a second on: what the .pyc behind a miss checks)
    st = cas.stat()
    cas.write_text(cas.read_text("utf-8").replace("'new'", "'NEW'"), "utf-8")
    os.utime(cas, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert cas.stat().st_size == st.st_size
    assert _run(root)[3] == "NEW"


def test_switch_damage_and_dont_write_bytecode(tmp_path: Path) -> None:
    root, bundle = _copy(tmp_path)
    off = {"GHOSTENV_NO_CODE_BUNDLE": "1"}
    assert _run(root, extra=off)[0] == "SourceFileLoader"
    assert not bundle.exists()
    assert _run(root, extra={"PYTHONDONTWRITEBYTECODE": "1"})[0] == "_CodeBundle"
    assert not bundle.exists()  # written only where .pyc files would be
    _run(root)
    assert bundle.exists()
    assert _run(root, extra=off)[0] == "SourceFileLoader"
    bundle.write_bytes(b"\x00not a bundle")
    assert _run(root) == ["_CodeBundle", "True", "True", "None"]  # damaged: the usual code
    assert bundle.read_bytes()[:2] != b"\x00n"  # and written again
    (root / "ghostenv" / "store" / "cas.py").unlink()  # a module gone: the usual error
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", "import ghostenv.store.cas"], env={
        **env, "PYTHONPATH": str(root)}, capture_output=True, text=True, check=False)
    assert "ModuleNotFoundError" in proc.stderr
