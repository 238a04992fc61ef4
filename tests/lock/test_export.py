"""requirements.txt export, checked against `uv export` of the same lock in several environments."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ghostenv.lock.export import ExportOptions, export_requirements
from ghostenv.lock.read import read_lock

REPO = Path(__file__).resolve().parents[2]
UV = shutil.which("uv") or str(REPO / ".venv" / "bin" / "uv")
ENVS = [
    {
        "python_full_version": v,
        "python_version": v.rsplit(".", 1)[0],
        "sys_platform": p,
        "platform_system": s,
        "platform_machine": "x86_64",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "nt" if p == "win32" else "posix",
    }
    for v in ("3.9.18", "3.11.7", "3.13.1")
    for p, s in (("linux", "Linux"), ("win32", "Windows"), ("darwin", "Darwin"))
]


def _selected(text: str, env: dict[str, str]) -> set[str]:
    """The pinned `name==version` lines whose markers hold in ``env``."""
    out = set()
    for raw in text.splitlines():
        line = raw.rstrip(" \\").strip()
        if not line or line.startswith(("#", "--")) or "==" not in line:
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            out.add(f"{req.name}{req.specifier}")
    return out


@pytest.mark.skipif(not Path(UV).exists(), reason="uv not installed")
@pytest.mark.parametrize("workload", ["web", "data", "big"])
def test_export_selects_what_uv_export_selects(workload: str, tmp_path: Path) -> None:
    src = REPO / "fixtures" / "locks" / workload
    for name in ("pyproject.toml", "uv.lock"):
        shutil.copy(src / name, tmp_path / name)
    uv = subprocess.run(
        [UV, "export", "--frozen", "--all-groups", "--no-hashes", "--offline"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lock = read_lock(src / "uv.lock")
    ours = export_requirements(lock, ExportOptions(all_groups=True, hashes=False))
    for env in ENVS:
        assert _selected(ours, env) == _selected(uv, env), env


def test_export_hashes_and_sources() -> None:
    lock = read_lock(REPO / "fixtures" / "locks" / "sources" / "uv.lock")
    text = export_requirements(lock, ExportOptions(extras=("cli",)))
    assert "six==1.17.0 \\\n    --hash=sha256:4721f391" in text
    assert "colorama==0.4.6 ; sys_platform == 'win32' \\\n" in text
    assert "-e ./packages/liba\n" in text
    assert (
        "gitpkg @ git+file:///tmp/srcdemo/gitpkg@c150e51703d969378d35e95d73d1c79974244bb2\n" in text
    )
    assert "idna" not in text
    assert "\nsrcdemo" not in text
    assert "-e .\n" not in text
    no_dev = export_requirements(lock, ExportOptions(groups=()))
    assert "iniconfig" not in no_dev
    assert "packaging==" not in no_dev
