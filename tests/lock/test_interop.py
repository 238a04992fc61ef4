"""ghostenv lock and real uv on the same projects, both pointed at the fixture index.

Both directions of issue 6's interop contract:

* after ``uv lock``: ``ghostenv lock --check`` succeeds and ``ghostenv lock``
  leaves the file byte-identical;
* after ``ghostenv lock``: ``uv lock --check`` and ``uv sync --locked`` succeed
  and do not change the file.

The index is configured in the fixture pyproject (``[[tool.uv.index]]``,
``default = true``), which both tools read, so neither needs a flag and the
``source = { registry = ... }`` uv records is the URL as written there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_ghostenv

UV = Path(sys.executable).parent / "uv"

# (no sdist-only packages: `uv sync` would have to build them, and the fixture index has no
# build backend)
PROJECTS = {
    "plain": """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.9"
dependencies = ["alpha", "epsilon-tool"]
""",
    "environments": """\
[project]
name = "demo-envs"
version = "0.3.0"
requires-python = ">=3.10"
dependencies = ["gamma", "alpha; sys_platform == 'win32'", "beta; python_version >= '3.11'"]

[tool.uv]
environments = ["sys_platform == 'linux'", "sys_platform == 'darwin'"]
""",
    "extras-groups-markers": """\
[project]
name = "demo-extras"
version = "0.2.0"
requires-python = ">=3.10"
dependencies = ["alpha[docs]", "gamma; sys_platform == 'linux'"]

[project.optional-dependencies]
docs = ["epsilon-tool"]

[dependency-groups]
dev = ["beta>=1.0", {include-group = "lint"}]
lint = ["gamma>=0.5"]
""",
}


def _uv(args: list[str], project: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not UV.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    return subprocess.run(
        [str(UV), *args, "--python", sys.executable, "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=project, capture_output=True, text=True, timeout=300, check=False, env=env,
    )


def _project(tmp_path: Path, name: str, index: Any) -> Path:
    root = tmp_path / name
    root.mkdir()
    text = PROJECTS[name] + (
        f'\n[[tool.uv.index]]\nname = "fixtures"\nurl = "{index.simple_url}"\ndefault = true\n'
    )
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_uv_lock_then_ghostenv(name: str, fixture_index: Any, tmp_path: Path,
                               cache_dir: Path) -> None:
    root = _project(tmp_path, name, fixture_index)
    proc = _uv(["lock"], root, tmp_path)
    assert proc.returncode == 0, proc.stderr
    before = (root / "uv.lock").read_bytes()
    check = run_ghostenv("lock", "--check", "--project", str(root))
    assert check.returncode == 0, check.stderr
    again = run_ghostenv("lock", "--project", str(root))
    assert again.returncode == 0, again.stderr
    assert (root / "uv.lock").read_bytes() == before
    # an edit both tools notice
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha', '"beta", "alpha', 1))
    assert run_ghostenv("lock", "--check", "--project", str(root)).returncode == 1
    assert _uv(["lock", "--check"], root, tmp_path).returncode != 0


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_ghostenv_lock_then_uv(name: str, fixture_index: Any, tmp_path: Path,
                               cache_dir: Path) -> None:
    root = _project(tmp_path, name, fixture_index)
    proc = run_ghostenv("lock", "--project", str(root))
    if "universal resolution is being written" in proc.stderr:
        pytest.skip("resolve_universal is not implemented yet")
    assert proc.returncode == 0, proc.stderr
    written = (root / "uv.lock").read_bytes()
    check = _uv(["lock", "--check"], root, tmp_path)
    assert check.returncode == 0, check.stderr
    # uv's strict check: re-resolve and compare the parsed locks (spec §10). uv's own fresh
    # lock of a forked project can fail it (re-resolving reorders the forks, spec §11), so
    # it only applies to unforked locks; forked ones are held to uv's bytes below.
    if b"resolution-markers" not in written:
        strict = _uv(["lock", "--check", "--refresh"], root, tmp_path)
        assert strict.returncode == 0, strict.stderr
    sync = _uv(["sync", "--locked"], root, tmp_path)
    assert sync.returncode == 0, sync.stderr
    assert (root / "uv.lock").read_bytes() == written
    # and uv's own lock of the project is the same file
    (root / "uv.lock").unlink()
    assert _uv(["lock"], root, tmp_path).returncode == 0
    assert (root / "uv.lock").read_bytes() == written
    # a second ghostenv lock is a no-op that does not even parse
    again = run_ghostenv("lock", "--project", str(root))
    assert again.returncode == 0
    assert (root / "uv.lock").read_bytes() == written


@pytest.mark.network
def test_web_workload_same_bytes_as_uv(tmp_path: Path, cache_dir: Path) -> None:
    """The real thing: ghostenv lock and uv lock of the `web` workload from PyPI, minutes apart.

    The mirror here answers a JSON Accept with HTML now and then, and only JSON carries
    ``size``; so ``size`` is set aside, every other byte must match.
    """
    import re

    workload = Path(__file__).resolve().parents[3] / "shared" / "workloads" / "web"
    if not (workload / "pyproject.toml").is_file():
        pytest.skip("no shared workloads")
    ours = tmp_path / "ours"
    theirs = tmp_path / "theirs"
    for root in (ours, theirs):
        root.mkdir()
        (root / "pyproject.toml").write_bytes((workload / "pyproject.toml").read_bytes())
    proc = run_ghostenv("lock", "--project", str(ours))
    if proc.returncode != 0 and "network" in proc.stderr.lower():
        pytest.skip(f"PyPI not reachable: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    uv = _uv(["lock"], theirs, tmp_path)
    assert uv.returncode == 0, uv.stderr
    def strip(text: str) -> str:
        return re.sub(r", size = \d+", "", text)

    assert strip((ours / "uv.lock").read_text()) == strip((theirs / "uv.lock").read_text())
    check = _uv(["lock", "--check"], ours, tmp_path)
    assert check.returncode == 0, check.stderr
