"""The venv factory against real interpreters: Python itself must accept the layout."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ghostenv import __version__
from ghostenv.discover import Interpreter, find_interpreter
from ghostenv.errors import InstallError
from ghostenv.materialize.venv import create_venv
from tests.conftest import run_ghostenv


def _pyenv(minor: str) -> Path:
    versions = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    for entry in sorted(versions.glob(f"{minor}.*")) if versions.is_dir() else []:
        if (entry / "bin" / "python").exists():
            return entry / "bin" / "python"
    pytest.skip(f"pyenv has no Python {minor}")


def _interp(minor: str, cache_dir: Path) -> Interpreter:
    return find_interpreter(str(_pyenv(minor)), cache_dir)


def _run(python: Path, code: str, **kw: object) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True, env=env, **kw)  # type: ignore[call-overload]
    return str(proc.stdout).strip()


@pytest.mark.parametrize("minor", ["3.9", "3.10", "3.11", "3.12", "3.13"])
def test_python_accepts_the_venv(minor: str, tmp_path: Path, cache_dir: Path) -> None:
    interp = _interp(minor, cache_dir)
    layout = create_venv(tmp_path / "env", interp)
    root = layout.root
    assert layout.purelib == root / "lib" / f"python{minor}" / "site-packages"
    assert layout.purelib.is_dir()
    (layout.purelib / "ghost_probe.pth").write_text("import sys; sys.ghost_pth = 1\n")
    (layout.purelib / "ghostmod.py").write_text("VALUE = 42\n")
    out = _run(layout.python, "import sys, site, ghostmod; print(sys.prefix); "
               "print(sys.base_prefix); print(getattr(sys, 'ghost_pth', 0)); "
               "print(ghostmod.VALUE); print(sys.version_info[:2])")
    prefix, base_prefix, pth, value, vi = out.splitlines()
    assert Path(prefix) == root
    assert Path(base_prefix) == interp.base_prefix
    assert (pth, value) == ("1", "42")
    assert vi == str(tuple(int(p) for p in minor.split(".")))
    for alias in ("python3", f"python{minor}"):
        assert Path(_run(layout.scripts / alias, "import sys; print(sys.prefix)")) == root
    # The stdlib's own venv rules accept it: sysconfig reports the venv scheme inside it.
    purelib = _run(layout.python, "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    assert Path(purelib) == layout.purelib


def test_layout_files(tmp_path: Path, cache_dir: Path) -> None:
    interp = _interp("3.12", cache_dir)
    layout = create_venv(tmp_path / "env", interp, prompt="demo")
    cfg = dict(line.split(" = ", 1) for line in layout.cfg.read_text().splitlines())
    assert cfg["home"] == str(interp.base_executable.parent)
    assert cfg["executable"] == str(interp.base_executable)
    assert cfg["implementation"] == "CPython"
    assert cfg["version_info"] == interp.version_str
    assert cfg["include-system-site-packages"] == "false"
    assert cfg["ghostenv"] == __version__
    assert cfg["prompt"] == "demo"
    assert "command" in cfg
    assert (layout.root / ".gitignore").read_text().splitlines()[-1] == "*"
    lib64 = layout.root / "lib64"
    assert lib64.is_symlink()
    assert os.readlink(lib64) == "lib"
    for name in ("activate", "activate.fish", "activate.csh", "Activate.ps1"):
        text = (layout.scripts / name).read_text()
        assert "__GHOSTENV" not in text
        assert str(layout.root) in text


def test_refuses_non_venv_directory_and_clear_replaces(tmp_path: Path, cache_dir: Path) -> None:
    interp = _interp("3.12", cache_dir)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "precious.txt").write_text("x")
    with pytest.raises(InstallError, match="not a virtual environment"):
        create_venv(target, interp)
    create_venv(target, interp, clear=True)
    assert not (target / "precious.txt").exists()
    # Re-creating over an existing venv keeps site-packages.
    layout = create_venv(target, interp)
    (layout.purelib / "keep.py").write_text("")
    create_venv(target, _interp("3.12", cache_dir))
    assert (layout.purelib / "keep.py").exists()


def _cfg(root: Path) -> dict[str, str]:
    pairs = (line.partition(" = ") for line in (root / "pyvenv.cfg").read_text().splitlines())
    return {key: value for key, _, value in pairs}


def test_a_refresh_keeps_system_site_packages_prompt_and_command(tmp_path: Path,
                                                                 cache_dir: Path) -> None:
    interp = _interp("3.12", cache_dir)
    target = tmp_path / "env"
    create_venv(target, interp, system_site_packages=True, prompt="mine",
                command="python -m venv --system-site-packages env")
    # what `sync` does to an existing compatible venv: its own prompt and command, no flag
    create_venv(target, interp, prompt="project", command="ghostenv sync")
    cfg = _cfg(target)
    assert cfg["include-system-site-packages"] == "true"
    assert cfg["prompt"] == "mine"
    assert cfg["command"] == "python -m venv --system-site-packages env"
    assert "VIRTUAL_ENV_PROMPT='mine'\n" in (target / "bin" / "activate").read_text()
    # a venv without a prompt keeps none (activate shows the directory's name)
    plain = tmp_path / "plain"
    create_venv(plain, interp, command="first")
    create_venv(plain, interp, prompt="project", command="ghostenv sync")
    assert "prompt" not in _cfg(plain)
    assert _cfg(plain)["include-system-site-packages"] == "false"
    assert _cfg(plain)["command"] == "first"
    # clear, or asking for system site-packages: the caller's settings
    create_venv(target, interp, clear=True, prompt="project", command="ghostenv sync")
    assert _cfg(target)["include-system-site-packages"] == "false"
    assert _cfg(target)["prompt"] == "project"
    create_venv(target, interp, system_site_packages=True, prompt="again", command="c")
    assert (_cfg(target)["include-system-site-packages"], _cfg(target)["prompt"]) == (
        "true", "again")
    # `ghostenv venv PATH --prompt X` over it: what the user asks wins (python -m venv too)
    create_venv(target, interp, prompt="asked", command="ghostenv venv", keep_existing=False)
    assert (_cfg(target)["include-system-site-packages"], _cfg(target)["prompt"],
            _cfg(target)["command"]) == ("false", "asked", "ghostenv venv")


def test_venv_from_a_venv_points_at_base(tmp_path: Path, cache_dir: Path) -> None:
    base = _interp("3.11", cache_dir)
    outer = create_venv(tmp_path / "outer", base)
    inner_interp = find_interpreter(str(outer.python), cache_dir)
    assert inner_interp.is_virtualenv
    inner = create_venv(tmp_path / "inner", inner_interp)
    out = _run(inner.python, "import sys; print(sys.prefix); print(sys.base_prefix)")
    assert out.splitlines() == [str(inner.root), str(base.base_prefix)]


def _source_and_print(shell: str, script: Path, venv: Path) -> list[str]:
    if shell == "bash":
        cmd = ["bash", "--norc", "-c", f'source "{script}"; echo "$VIRTUAL_ENV"; '
               'command -v python; deactivate; echo "${VIRTUAL_ENV-unset}"']
    elif shell == "fish":
        cmd = ["fish", "--no-config", "-c", f'source "{script}"; echo $VIRTUAL_ENV; '
               'command -v python; deactivate; set -q VIRTUAL_ENV; and echo set; or echo unset']
    else:
        # csh expands aliases per input line, so a one-line `-c` could not call the
        # alias it just sourced: run a script file, line by line, as a user would type.
        body = venv.parent / "check.csh"
        body.write_text(f'source "{script}"\necho "$VIRTUAL_ENV"\nwhich python\ndeactivate\n'
                        "if ($?VIRTUAL_ENV) then\necho set\nelse\necho unset\nendif\n")
        cmd = ["csh", "-f", str(body)]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(venv.parent)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return proc.stdout.strip().splitlines()


@pytest.mark.parametrize(("shell", "script"), [
    ("bash", "activate"), ("fish", "activate.fish"), ("csh", "activate.csh"),
])
def test_activate_scripts_in_real_shells(shell: str, script: str, tmp_path: Path,
                                         cache_dir: Path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    layout = create_venv(tmp_path / "it's env", _interp("3.12", cache_dir))
    lines = _source_and_print(shell, layout.scripts / script, layout.root)
    assert lines == [str(layout.root), str(layout.python), "unset"]


def test_cli_creates_default_dot_venv(tmp_path: Path, cache_dir: Path) -> None:
    exe = _pyenv("3.13")
    proc = run_ghostenv("venv", "--python", str(exe), cwd=tmp_path, check=True)
    assert "Created" in proc.stderr
    root = tmp_path / ".venv"
    assert Path(_run(root / "bin" / "python", "import sys; print(sys.prefix)")) == root
    bad = run_ghostenv("venv", "--python", "2.7", cwd=tmp_path)
    assert bad.returncode != 0
    assert "older than ghostenv supports" in bad.stderr
    again = run_ghostenv("venv", "--python", str(exe), "--clear", cwd=tmp_path, check=True)
    assert again.returncode == 0
