"""The install engine against the fixture index: plan decisions, then what applying them does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ghostenv.discover import find_interpreter
from ghostenv.errors import HashMismatchError
from ghostenv.materialize.venv import VenvLayout, create_venv
from ghostenv.store import Store
from ghostenv.workflow.plan import Action, Wanted, apply_plan, install_wanted, plan_install
from tests.support.builder import BuildResult
from tests.support.index_server import IndexServer


def wanted(build: BuildResult, index: IndexServer, filename: str, *,
           requested: bool = True, sha256: str | None = "build") -> Wanted:
    f = build.by_filename(filename)
    digest = f.sha256 if sha256 == "build" else sha256
    return Wanted(f.project, f.version, filename, url=index.files_url + filename,
                  sha256=digest, requested=requested)


def py(layout: VenvLayout, code: str) -> str:
    return subprocess.run([str(layout.python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def env(tmp_path: Path, cache_dir: Path) -> VenvLayout:
    interp = find_interpreter(sys.executable, cache_dir)
    return create_venv(tmp_path / "env", interp)


def downloads(index: IndexServer) -> list[str]:
    return [r.path for r in index.requests if r.path.startswith("/files/")]


BETA_1 = "beta-1.0.0-py3-none-any.whl"
BETA_12 = "beta-1.2.0-py3-none-any.whl"
ALPHA = "alpha-1.0.0-py3-none-any.whl"
EPS = "epsilon_tool-1.0.0-py3-none-any.whl"


def test_download_then_link_then_unchanged(env: VenvLayout, cache_dir: Path, tmp_path: Path,
                                           fixture_build: BuildResult,
                                           fixture_index: IndexServer) -> None:
    store = Store(cache_dir / "store")
    want = [wanted(fixture_build, fixture_index, n) for n in (ALPHA, BETA_1, EPS)]
    plan = plan_install(want, env, store, exact=True)
    assert [s.action for s in plan.steps] == [Action.DOWNLOAD] * 3
    report = apply_plan(plan, env, store, exact=True)
    assert sorted(report.installed) == ["alpha==1.0.0", "beta==1.0.0", "epsilon-tool==1.0.0"]
    assert report.downloaded == 3
    assert py(env, "import alpha, beta; print('ok')") == "ok"
    assert (env.scripts / "epsilon-tool").exists()

    # a second environment: everything comes from the store, nothing is downloaded
    fixture_index.reset()
    other = create_venv(tmp_path / "other", env.interpreter)
    plan2 = plan_install(want, other, store, exact=True)
    assert {s.action for s in plan2.steps} == {Action.LINK}
    apply_plan(plan2, other, store, exact=True)
    assert downloads(fixture_index) == []
    assert py(other, "import alpha; print(alpha.__name__)") == "alpha"

    # the same wants again: nothing to do
    again = plan_install(want, env, store, exact=True)
    assert not again.changes
    assert apply_plan(again, env, store).unchanged == 3


def test_reinstall_remove_and_keep(env: VenvLayout, cache_dir: Path,
                                   fixture_build: BuildResult,
                                   fixture_index: IndexServer) -> None:
    store = Store(cache_dir / "store")
    install_wanted([wanted(fixture_build, fixture_index, n) for n in (ALPHA, BETA_1, EPS)],
                   env, store, exact=True)
    new = [wanted(fixture_build, fixture_index, n) for n in (ALPHA, BETA_12)]
    plan = plan_install(new, env, store, exact=True, keep=["epsilon-tool"])
    actions = {s.name: (s.action, s.reason) for s in plan.steps}
    assert actions == {"alpha": (Action.UNCHANGED, ""),
                       "beta": (Action.REINSTALL, "version changed")}
    plan = plan_install(new, env, store, exact=True)
    assert {s.name: s.action for s in plan.steps}["epsilon-tool"] is Action.REMOVE
    report = apply_plan(plan, env, store, exact=True)
    assert report.reinstalled == ["beta==1.2.0"]
    assert report.removed == ["epsilon-tool==1.0.0"]
    assert not (env.scripts / "epsilon-tool").exists()
    assert [p.name for p in env.purelib.glob("beta-*.dist-info")] == ["beta-1.2.0.dist-info"]
    # forced reinstall of an unchanged package, and a non-exact plan keeps extras
    plan = plan_install(new[:1], env, store, exact=False, reinstall=["alpha"])
    assert [(s.name, s.action) for s in plan.steps] == [("alpha", Action.REINSTALL)]
    apply_plan(plan, env, store)
    assert py(env, "import alpha, beta; print('ok')") == "ok"


def test_same_version_other_wheel_is_reinstalled(env: VenvLayout, cache_dir: Path,
                                                 fixture_build: BuildResult,
                                                 fixture_index: IndexServer,
                                                 tmp_path: Path) -> None:
    from tests.store.wheelbuild import make_wheel

    store = Store(cache_dir / "store")
    install_wanted([wanted(fixture_build, fixture_index, BETA_1)], env, store)
    rebuilt = make_wheel(tmp_path, "beta", "1.0.0", {"beta/__init__.py": b"REBUILT = 1\n"})
    plan = plan_install([Wanted("beta", "1.0.0", rebuilt.name, path=rebuilt)], env, store,
                        exact=True)
    assert [(s.action, s.reason) for s in plan.steps] == [(Action.REINSTALL, "wheel changed")]
    apply_plan(plan, env, store)
    assert py(env, "import beta; print(beta.REBUILT)") == "1"


def test_hash_mismatch_names_file_and_leaves_nothing(env: VenvLayout, cache_dir: Path,
                                                     fixture_build: BuildResult,
                                                     fixture_index: IndexServer) -> None:
    store = Store(cache_dir / "store")
    bad = wanted(fixture_build, fixture_index, BETA_1, sha256="0" * 64)
    with pytest.raises(HashMismatchError, match=r"beta-1\.0\.0-py3-none-any\.whl.*0000"):
        install_wanted([bad], env, store)
    assert not list(store.tmp.iterdir())
    assert not list(env.purelib.glob("beta*"))


def test_objects_missing_from_store_are_fetched_again(env: VenvLayout, cache_dir: Path,
                                                      tmp_path: Path,
                                                      fixture_build: BuildResult,
                                                      fixture_index: IndexServer) -> None:
    store = Store(cache_dir / "store")
    want = [wanted(fixture_build, fixture_index, ALPHA)]
    install_wanted(want, env, store)
    manifest = store.get_manifest(fixture_build.by_filename(ALPHA).sha256)
    assert manifest is not None
    for f in manifest.files:
        store.object_path(f.sha256).unlink(missing_ok=True)
    other = create_venv(tmp_path / "other", env.interpreter)
    plan, report = install_wanted(want, other, store)
    assert [s.action for s in plan.steps] == [Action.LINK]  # the manifest looked fine
    assert report.installed == ["alpha==1.0.0"]
    assert py(other, "import alpha; print('ok')") == "ok"
    assert store.get_manifest(manifest.wheel_sha256) is not None


def test_record_and_installer_written_per_environment(
        env: VenvLayout, cache_dir: Path, tmp_path: Path, fixture_build: BuildResult,
        fixture_index: IndexServer) -> None:
    store = Store(cache_dir / "store")
    want = [wanted(fixture_build, fixture_index, BETA_1)]
    install_wanted(want, env, store)
    other = create_venv(tmp_path / "other", env.interpreter)
    install_wanted(want, other, store)
    a = env.purelib / "beta-1.0.0.dist-info" / "RECORD"
    b = other.purelib / "beta-1.0.0.dist-info" / "RECORD"
    assert a.read_bytes() == b.read_bytes()
    # installer-owned files are written, never linked: editing one env's RECORD in place
    # must not reach the store or the other environment
    assert a.stat().st_ino != b.stat().st_ino
    assert a.stat().st_nlink == 1
    listed = py(other, "import importlib.metadata as m; print(len(m.files('beta')))")
    assert int(listed) >= 4
