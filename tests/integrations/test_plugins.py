"""The plugin API end to end: a real plugin project installed next to ghostenv, seen by the CLI.

``fixtures/plugin-project`` is built and installed with pip into a target
directory put on ``PYTHONPATH`` for the ``ghostenv`` subprocess, which is
how an installed plugin is discovered (its dist-info's ``entry_points.txt``).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, run_ghostenv


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the installed demo plugin (to put on PYTHONPATH)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "plugin-project"
    shutil.copytree(REPO / "fixtures" / "plugin-project", source)
    target = work / "site"
    if importlib.util.find_spec("hatchling") is not None:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
             "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
            capture_output=True, text=True, check=False, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
    else:  # no build backend here: install it the way a wheel would lay it out
        _install_by_hand(source, target)
    assert (target / "ghostenv_demo_plugin-0.1.0.dist-info" / "entry_points.txt").is_file()
    return target


def _install_by_hand(source: Path, target: Path) -> None:
    """Copy the package and write its dist-info (METADATA, entry_points.txt, RECORD)."""
    meta = tomllib.loads((source / "pyproject.toml").read_text())["project"]
    shutil.copytree(source / "src" / "ghostenv_demo_plugin", target / "ghostenv_demo_plugin")
    info = target / f"ghostenv_demo_plugin-{meta['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    groups = meta["entry-points"]
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n"
        for group, eps in groups.items()))
    (info / "RECORD").write_text("")


def _env(plugin_path: Path, **extra: str) -> dict[str, str]:
    return {"PYTHONPATH": str(plugin_path), **extra}


def test_plugin_subcommand_runs_through_the_cli(plugin_path: Path, cache_dir: Path) -> None:
    proc = run_ghostenv("hello", "tester", env=_env(plugin_path))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"hello tester from ghostenv-demo-plugin (cache {cache_dir})"
    failing = run_ghostenv("hello", "fail", env=_env(plugin_path))
    assert failing.returncode == 3  # the plugin's exit code passes through
    helped = run_ghostenv("hello", "--help", env=_env(plugin_path))
    assert "say hello (demo plugin)" in helped.stdout


def test_plugin_cannot_replace_a_builtin(plugin_path: Path) -> None:
    # the demo plugin also offers "sync"; the built-in keeps the name
    proc = run_ghostenv("sync", "--help", env=_env(plugin_path))
    assert proc.returncode == 0, proc.stderr
    assert "--frozen" in proc.stdout
    assert "a plugin may not replace a built-in" not in proc.stdout


def test_unknown_command_without_plugin_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_ghostenv("hello")
    assert proc.returncode == 2
    assert "invalid choice: 'hello'" in proc.stderr


def test_plugins_listing_shows_builtins_and_the_plugin(plugin_path: Path) -> None:
    import json

    proc = run_ghostenv("plugins", "--json", env=_env(plugin_path))
    assert proc.returncode == 0, proc.stderr
    table = json.loads(proc.stdout)
    assert table["ghostenv.builtins"]["link_modes"] == ["clone", "hardlink", "copy", "symlink"]
    assert "sync" in table["ghostenv.builtins"]["commands"]
    assert "plugins" in table["ghostenv.builtins"]["commands"]
    assert table["demo"]["link_modes"] == ["demo-copy"]
    assert table["demo"]["commands"] == ["hello", "sync"]
    assert "ghostenv_environment_created" in table["demo"]["hooks"]
    text = run_ghostenv("plugins", env=_env(plugin_path)).stdout
    assert "  link modes: demo-copy" in text
    disabled = run_ghostenv("plugins", "--json", env=_env(plugin_path, GHOSTENV_NO_PLUGINS="1"))
    assert list(json.loads(disabled.stdout)) == ["ghostenv.builtins"]


def test_plugin_link_mode_and_notifications_work(plugin_path: Path, tmp_path: Path) -> None:
    """The link mode places a file; environment_created fires only when a plugin is there."""
    log = tmp_path / "log.txt"
    code = (
        "import sys, pathlib\n"
        "from ghostenv import plugins\n"
        "assert 'pluggy' not in sys.modules\n"
        "place = plugins.link_mode('demo-copy')\n"
        "src = pathlib.Path(sys.argv[1]); dst = pathlib.Path(sys.argv[2])\n"
        "place(src, dst)\n"
        "env = pathlib.Path(sys.argv[3]); env.mkdir()\n"
        "plugins.environment_created(env, env / 'bin' / 'python')\n"
        "assert set(plugins.link_modes()) >= {'clone', 'copy', 'symlink', 'demo-copy'}\n"
    )
    src = tmp_path / "a.txt"
    src.write_text("payload")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(src), str(tmp_path / "b.txt"), str(tmp_path / "env")],
        env={**_base_env(), **_env(plugin_path, GHOSTENV_DEMO_LOG=str(log))},
        capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "b.txt").read_text() == "payload"
    assert log.read_text() == "b.txt\n"
    assert (tmp_path / "env" / "demo-plugin.txt").read_text().startswith("created for ")


def test_no_plugin_means_no_pluggy_and_no_cost(tmp_path: Path) -> None:
    """Without plugins the notifications return at once and never import pluggy."""
    code = (
        "import sys, time, pathlib\n"
        "from ghostenv import plugins\n"
        "t = time.perf_counter()\n"
        "for _ in range(1000):\n"
        "    plugins.environment_created(pathlib.Path('.'), pathlib.Path('.'))\n"
        "    plugins.before_sync(pathlib.Path('.'), None)\n"
        "    plugins.after_sync(pathlib.Path('.'), [], [])\n"
        "print((time.perf_counter() - t) * 1000)\n"
        "assert 'pluggy' not in sys.modules and 'importlib.metadata' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=_base_env(), capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 100  # 3000 calls incl. the one scan, on a loaded machine


def test_version_never_loads_plugins(plugin_path: Path) -> None:
    code = ("import sys; from ghostenv.entry import main; main(['--version']); "
            "assert 'ghostenv.plugins' not in sys.modules and 'pluggy' not in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code],
                          env={**_base_env(), **_env(plugin_path)},
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def _base_env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_plugin_link_mode_through_cp_and_environment_created_through_venv(
        plugin_path: Path, tmp_path: Path, cache_dir: Path) -> None:
    """The real CLI: `cp --mode demo-copy` links with the plugin; `venv` fires the hook."""
    log = tmp_path / "log.txt"
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("a")
    (tree / "sub" / "b.txt").write_text("b")
    env = _env(plugin_path, GHOSTENV_DEMO_LOG=str(log))
    proc = run_ghostenv("cp", str(tree), str(tmp_path / "copy"), "--mode", "demo-copy", env=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "copy" / "sub" / "b.txt").read_text() == "b"
    assert sorted(log.read_text().split()) == ["a.txt", "b.txt"]
    unknown = run_ghostenv("cp", str(tree), str(tmp_path / "x"), "--mode", "nope", env=env)
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr

    venv = tmp_path / "venv"
    made = run_ghostenv("venv", str(venv), "--python", sys.executable, env=env)
    assert made.returncode == 0, made.stderr
    assert (venv / "demo-plugin.txt").read_text().startswith("created for ")
    plain = run_ghostenv("venv", str(tmp_path / "venv2"), "--python", sys.executable)
    assert plain.returncode == 0, plain.stderr
    assert not (tmp_path / "venv2" / "demo-plugin.txt").exists()


def test_sync_hooks_fire_around_a_real_sync_and_not_on_the_gate(
        plugin_path: Path, tmp_path: Path, cache_dir: Path, fixture_index: Any) -> None:
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.skip("uv is not installed next to the test interpreter")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["beta==1.0.0"]\n\n[tool.uv]\npackage = false\n')
    locked = subprocess.run(
        [str(uv), "lock", "--no-config", "--index-url", fixture_index.simple_url, "--python",
         sys.executable, "--cache-dir", str(tmp_path / "uv-cache")],
        cwd=project, capture_output=True, text=True, check=False, timeout=300)
    assert locked.returncode == 0, locked.stderr
    log = tmp_path / "log.txt"
    env = _env(plugin_path, GHOSTENV_DEMO_LOG=str(log), UV_PROJECT_ENVIRONMENT="",
               GHOSTENV_LINK_MODE="demo-copy")
    first = run_ghostenv("sync", "--frozen", "--python", sys.executable, cwd=project, env=env)
    assert first.returncode == 0, first.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "before_sync .venv uv.lock"
    assert lines[-1] == "after_sync .venv +beta==1.0.0 -"
    assert "__init__.py" in lines[1:-1]  # beta's files were placed by the plugin's link mode
    assert (project / ".venv" / "demo-plugin.txt").is_file()  # environment_created too
    again = run_ghostenv("sync", "--frozen", "--python", sys.executable, cwd=project, env=env)
    assert again.returncode == 0, again.stderr
    assert len(log.read_text().splitlines()) == len(lines), "the up-to-date gate runs no plugin"


def test_plugin_index_source_serves_its_url_scheme(
        plugin_path: Path, tmp_path: Path, cache_dir: Path, fixture_index: Any) -> None:
    log = tmp_path / "log.txt"
    demo_url = fixture_index.simple_url.replace("http://", "demo://", 1)
    proc = run_ghostenv("resolve", "alpha==1.0.0", "--index-url", demo_url,
                        env=_env(plugin_path, GHOSTENV_DEMO_LOG=str(log)))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["alpha==1.0.0", "beta==1.2.0", "gamma==1.0.0"]
    assert log.read_text() == f"index_source {demo_url}\n"
    assert any("/simple/alpha/" in str(r) for r in fixture_index.requests)
    without = run_ghostenv("resolve", "alpha==1.0.0", "--index-url", demo_url)
    assert without.returncode == 2
    assert "no index client for `demo:` URLs" in without.stderr


def test_broken_plugin_is_named_and_does_not_break_builtins(tmp_path: Path) -> None:
    site = tmp_path / "site"
    info = site / "ghostenv_broken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ghostenv-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ghostenv]\nbroken = no_such_module_xyz\n")
    env = {"PYTHONPATH": str(site)}
    proc = run_ghostenv("hello", env=env)
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: plugin `broken` (no_such_module_xyz, from "
                                  "ghostenv-broken) failed to load: ModuleNotFoundError")
    assert "GHOSTENV_NO_PLUGINS=1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert run_ghostenv("sync", "--help", env=env).returncode == 0  # built-ins never load it
    off = run_ghostenv("plugins", env={**env, "GHOSTENV_NO_PLUGINS": "1"})
    assert off.returncode == 0, off.stderr
