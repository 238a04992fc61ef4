"""Ephemeral (`run --with`) and PEP 723 script environments, against the fixture index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ghostenv.discover import Interpreter, find_interpreter
from ghostenv.errors import UsageError
from ghostenv.materialize.venv import create_venv
from ghostenv.resolve.index_source import IndexSettings
from ghostenv.store import Store
from ghostenv.workflow.ephemeral import ephemeral_environment
from ghostenv.workflow.ephemeral_lookup import lookup, script_block, script_lookup
from ghostenv.workflow.plan import Wanted, install_wanted
from ghostenv.workflow.script import script_environment
from tests.support.builder import BuildResult
from tests.support.index_server import IndexServer


@pytest.fixture
def interp(cache_dir: Path) -> Interpreter:
    return find_interpreter(sys.executable, cache_dir)


@pytest.fixture
def settings(cache_dir: Path, fixture_index: IndexServer) -> IndexSettings:
    return IndexSettings(index_url=fixture_index.simple_url, cache_dir=cache_dir)


def run_py(env: Path | str, code: str) -> str:
    return subprocess.run([os.path.join(env, "bin", "python"), "-c", code], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_with_environment_is_built_once_and_found_by_lookup(
        interp: Interpreter, settings: IndexSettings, cache_dir: Path,
        fixture_index: IndexServer) -> None:
    assert lookup(["alpha==1.0.0"], python=None, base=None, cache_dir=cache_dir) is None
    env = ephemeral_environment(["alpha==1.0.0"], interpreter=interp, base=None,
                                settings=settings)
    assert run_py(env, "import alpha, beta, gamma; print('ok')") == "ok"
    assert lookup(["alpha==1.0.0"], python=None, base=None, cache_dir=cache_dir) == str(env)
    assert lookup(["alpha"], python=None, base=None, cache_dir=cache_dir) is None

    # the same request again (e.g. from another project without base): no index traffic at all
    fixture_index.reset()
    again = ephemeral_environment(["alpha==1.0.0"], interpreter=interp, base=None,
                                  settings=settings)
    assert again == env
    assert fixture_index.requests == []


def test_layer_on_a_base_environment(interp: Interpreter, settings: IndexSettings, *,
                                     cache_dir: Path, tmp_path: Path,
                                     fixture_build: BuildResult,
                                     fixture_index: IndexServer) -> None:
    base = create_venv(tmp_path / "project-env", interp)
    beta = fixture_build.by_filename("beta-1.0.0-py3-none-any.whl")
    install_wanted([Wanted("beta", "1.0.0", beta.filename,
                           url=fixture_index.files_url + beta.filename, sha256=beta.sha256)],
                   base, Store(cache_dir / "store"))
    before = sorted(p.name for p in base.purelib.iterdir())
    env = ephemeral_environment(["gamma"], interpreter=interp, base=base.root, settings=settings)
    code = f"import beta, gamma; print(gamma.__file__.startswith({str(env)!r}))"
    assert run_py(env, code) == "True"
    assert sorted(p.name for p in base.purelib.iterdir()) == before  # base untouched
    assert lookup(["gamma"], python=None, base=base.root, cache_dir=cache_dir) == str(env)
    # the base environment changed: the entry no longer holds
    (base.root / "pyvenv.cfg").write_text((base.root / "pyvenv.cfg").read_text() + "\n")
    os.utime(base.root / "pyvenv.cfg", ns=(1, 1))
    assert lookup(["gamma"], python=None, base=base.root, cache_dir=cache_dir) is None


def test_lookup_expires(interp: Interpreter, settings: IndexSettings, cache_dir: Path,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    env = ephemeral_environment(["gamma"], interpreter=interp, base=None, settings=settings)
    assert lookup(["gamma"], python=None, base=None, cache_dir=cache_dir) == str(env)
    monkeypatch.setenv("GHOSTENV_EPHEMERAL_TTL", "-1")
    assert lookup(["gamma"], python=None, base=None, cache_dir=cache_dir) is None


SCRIPT = """\
# /// script
# requires-python = ">=3.8"
# dependencies = [
#   "gamma",
# ]
# ///
import gamma
print("script", gamma.__name__)
"""


def test_pep723_script(interp: Interpreter, settings: IndexSettings, cache_dir: Path,
                       tmp_path: Path) -> None:
    script = tmp_path / "hello.py"
    script.write_text(SCRIPT)
    assert script_lookup(script, python=None, cache_dir=cache_dir) is None
    env = script_environment(script, interpreter=interp, settings=settings)
    out = subprocess.run([str(env / "bin" / "python"), str(script)], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "script gamma"
    assert script_lookup(script, python=None, cache_dir=cache_dir) == str(env)
    script.write_text(SCRIPT + "print('more code')\n")  # code edits keep the environment
    assert script_lookup(script, python=None, cache_dir=cache_dir) == str(env)
    script.write_text(SCRIPT.replace('"gamma",', '"gamma", "beta",'))
    assert script_lookup(script, python=None, cache_dir=cache_dir) is None

    script.write_text(SCRIPT.replace(">=3.8", ">=3.99"))
    with pytest.raises(UsageError, match=r"requires Python >=3\.99"):
        script_environment(script, interpreter=interp, settings=settings)


def test_script_block_parsing() -> None:
    assert script_block("print(1)\n") is None
    assert script_block(SCRIPT) == 'requires-python = ">=3.8"\ndependencies = [\n  "gamma",\n]\n'
    with pytest.raises(ValueError, match="more than one"):
        script_block(SCRIPT + SCRIPT)


def test_prune_removes_abandoned_environments(interp: Interpreter, settings: IndexSettings,
                                              cache_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ghostenv.workflow.ephemeral import prune_ephemeral

    used = ephemeral_environment(["gamma"], interpreter=interp, base=None, settings=settings)
    old = ephemeral_environment(["beta==1.0.0"], interpreter=interp, base=None,
                                settings=settings)
    assert prune_ephemeral(cache_dir) == []  # both asked for just now
    # `old` was last asked for two days ago; `used` again today
    for entry in (cache_dir / "ephemeral-v1" / "lookup").glob("*.txt"):
        text = entry.read_text()
        if str(old) in text:
            stamp = next(line for line in text.splitlines() if line.startswith("created"))
            entry.write_text(text.replace(stamp, "created\t1.0"))
    os.utime(old / "ghostenv-ephemeral.json", (1.0, 1.0))
    os.utime(used / "ghostenv-ephemeral.json", (1.0, 1.0))
    assert prune_ephemeral(cache_dir) == [old]
    assert used.is_dir()
    assert not old.exists()
    assert lookup(["beta==1.0.0"], python=None, base=None, cache_dir=cache_dir) is None
    store = Store(cache_dir / "store")
    assert store.prune().wheels == 1  # beta's wheel was only the removed environment's


def test_sdist_only_requirement_is_built(interp: Interpreter, cache_dir: Path,
                                         fixture_index: IndexServer) -> None:
    from tests.support.index_plugin import build_backend_links

    links = build_backend_links()
    settings = IndexSettings(index_url=fixture_index.simple_url, find_links=(str(links),),
                             cache_dir=cache_dir)
    env = ephemeral_environment(["delta==0.6.0"], interpreter=interp, base=None,
                                settings=settings)
    assert run_py(env, "import delta, beta; print(delta.__version__)") == "0.6.0"
    fixture_index.reset()  # again: remembered resolution, built wheel reused, no traffic
    assert ephemeral_environment(["delta==0.6.0"], interpreter=interp, base=None,
                                 settings=settings) == env
    assert fixture_index.requests == []
