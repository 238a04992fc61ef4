"""Installing stored wheels into real venvs, then importing and running what was installed."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.tags import sys_tags

from ghostenv.errors import InstallError, WheelError
from ghostenv.materialize.install import install_wheel
from ghostenv.materialize.link import Linker, LinkMode
from ghostenv.materialize.uninstall import find_dist_info, uninstall
from ghostenv.store import Store
from tests.store.wheelbuild import make_wheel

TAGS = frozenset(str(t) for t in sys_tags())


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv (no pip) of the interpreter running the tests."""
    path = tmp_path_factory.mktemp("venvs") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path


def scheme_of(env: Path) -> dict[str, str]:
    """Ask the venv's own interpreter for its install scheme."""
    code = "import json, sysconfig; print(json.dumps(sysconfig.get_paths()))"
    out = subprocess.run([str(env / "bin" / "python"), "-c", code], check=True,
                         capture_output=True, text=True).stdout
    paths = json.loads(out)
    # sysconfig's "include" of a venv is the base interpreter's; headers go in the venv
    # the way pip puts them: <venv>/include/site/pythonX.Y/<project>
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return {k: paths[k] for k in ("purelib", "platlib", "scripts", "data")} | {
        "headers": str(env / "include" / "site" / version / "demo")}


def py(env: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(env / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, check=False)


def _wheel(tmp_path: Path, name: str = "demo") -> Path:
    data = f"{name}-1.0.data"
    return make_wheel(
        tmp_path, name=name,
        files={
            f"{name}/__init__.py": b"def main():\n    print('hello from main')\n    return 3\n"
                                   b"def gui():\n    return 0\n",
            f"{name}/sub/data.txt": b"payload",
            f"{name}/tool.sh": b"#!/bin/sh\necho tool\n",
            f"{data}/scripts/{name}-raw": b"#!python\nimport sys\nprint(sys.executable)\n",
            f"{data}/scripts/{name}-sh": b"#!/bin/sh\necho shell\n",
            f"{data}/data/share/{name}/info.txt": b"shared data",
            f"{data}/headers/{name}.h": b"#define DEMO 1\n",
        },
        executable={f"{name}/tool.sh", f"{data}/scripts/{name}-sh"},
        entry_points=f"[console_scripts]\n{name}-cli = {name}:main\n"
                     f"[gui_scripts]\n{name}-gui = {name}:gui\n",
    )


def _check_record(dist_info: Path) -> list[str]:
    site = dist_info.parent
    rows = list(csv.reader((dist_info / "RECORD").read_text().splitlines()))
    for path, digest, size in rows:
        if not digest:
            assert path.endswith("RECORD")
            continue
        data = (site / path).read_bytes()
        raw = hashlib.sha256(data).digest()
        assert digest == "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode(), path
        assert int(size) == len(data)
    return [r[0] for r in rows]


def test_install_import_run_uninstall(tmp_path: Path, venv: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(_wheel(tmp_path))
    scheme = scheme_of(venv)
    python = venv / "bin" / "python"
    result = install_wheel(manifest, store, scheme, interpreter=python, supported_tags=TAGS,
                           requested=True, direct_url={"url": "file:///x/demo.whl",
                                                       "archive_info": {}})
    site = Path(scheme["purelib"])
    assert result.dist_info == site / "demo-1.0.dist-info"
    assert py(venv, "import demo; print(demo.main.__name__)").stdout.strip() == "main"
    meta = py(venv, "import importlib.metadata as m; d = m.distribution('demo');"
                    "print(d.version, d.read_text('INSTALLER').strip(),"
                    "sorted(e.name for e in d.entry_points))")
    assert meta.stdout.split() == ["1.0", "ghostenv", "['demo-cli',", "'demo-gui']"]
    cli = subprocess.run([str(venv / "bin" / "demo-cli")], capture_output=True, text=True,
                         check=False)
    assert cli.stdout.strip() == "hello from main"
    assert cli.returncode == 3
    assert (venv / "bin" / "demo-gui").read_text().startswith(f"#!{python}\n")
    raw = subprocess.run([str(venv / "bin" / "demo-raw")], capture_output=True, text=True,
                         check=True)
    assert raw.stdout.strip() == str(python)  # shebang rewritten to the venv's python
    assert subprocess.run([str(venv / "bin" / "demo-sh")], capture_output=True, text=True,
                          check=True).stdout == "shell\n"
    assert os.access(site / "demo" / "tool.sh", os.X_OK)
    assert (Path(scheme["data"]) / "share/demo/info.txt").read_text() == "shared data"
    assert (Path(scheme["headers"]) / "demo.h").exists()
    dist = result.dist_info
    assert (dist / "REQUESTED").exists()
    assert json.loads((dist / "direct_url.json").read_text())["url"] == "file:///x/demo.whl"
    listed = _check_record(dist)
    assert "../../../bin/demo-cli" in listed
    assert "demo-1.0.dist-info/INSTALLER" in listed
    # written files are never links into the store
    launcher = venv / "bin" / "demo-cli"
    assert launcher.stat().st_nlink == 1

    # bytecode next to a module is removed too; a foreign file in a shared dir is kept
    py(venv, "import demo")
    compiled = py(venv, "import compileall, demo; compileall.compile_file(demo.__file__)")
    assert compiled.returncode == 0
    (site / "demo" / "sub" / "foreign.txt").write_text("not ours")
    assert find_dist_info(site, "Demo") == dist
    removed = uninstall(dist, env_root=venv)
    assert launcher not in [p for p in removed if p.exists()]
    assert not launcher.exists()
    assert not dist.exists()
    assert py(venv, "from demo import main").returncode != 0  # only a namespace dir is left
    assert (site / "demo" / "sub" / "foreign.txt").exists()
    assert not (site / "demo" / "__init__.py").exists()
    assert not list((site / "demo").glob("__pycache__/*.pyc"))
    assert not (Path(scheme["data"]) / "share" / "demo").exists()
    assert find_dist_info(site, "demo") is None


def test_hardlink_and_copy_modes(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(_wheel(tmp_path, "linky"))
    objects = {f.path: Path(store.member_path(f)) for f in manifest.files}
    for mode in (LinkMode.HARDLINK, LinkMode.COPY):
        root = tmp_path / mode.value
        scheme = {k: str(root / k) for k in ("purelib", "platlib", "scripts", "headers", "data")}
        result = install_wheel(manifest, store, scheme, interpreter=sys.executable,
                               supported_tags=TAGS, linker=Linker(mode))
        init = Path(scheme["purelib"]) / "linky" / "__init__.py"
        same = init.stat().st_ino == objects["linky/__init__.py"].stat().st_ino
        assert same is (mode is LinkMode.HARDLINK)
        assert result.modes[mode.value] >= 3
        # executables come from the store's executable tree: shared too, and executable
        tool = Path(scheme["purelib"]) / "linky" / "tool.sh"
        same = tool.stat().st_ino == objects["linky/tool.sh"].stat().st_ino
        assert same is (mode is LinkMode.HARDLINK)
        assert os.access(tool, os.X_OK)
        assert objects["linky/tool.sh"] != objects["linky/__init__.py"]
        _check_record(result.dist_info)


def test_incompatible_tags_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path, tag="cp27-cp27mu-manylinux1_x86_64"))
    scheme = {k: str(tmp_path / "env" / k) for k in ("purelib", "platlib", "scripts", "headers",
                                                     "data")}
    with pytest.raises(WheelError, match="cp27-cp27mu-manylinux1_x86_64"):
        install_wheel(manifest, store, scheme, interpreter=sys.executable, supported_tags=TAGS)
    assert not (tmp_path / "env").exists()


def test_symlink_out_of_target_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path))
    scheme = {k: str(tmp_path / "env" / k) for k in ("purelib", "platlib", "scripts", "headers",
                                                     "data")}
    outside = tmp_path / "outside"
    outside.mkdir()
    Path(scheme["purelib"]).mkdir(parents=True)
    (Path(scheme["purelib"]) / "demo").symlink_to(outside)
    with pytest.raises(WheelError, match="outside"):
        install_wheel(manifest, store, scheme, interpreter=sys.executable, supported_tags=TAGS)
    assert list(outside.iterdir()) == []


def test_missing_scheme_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path))
    with pytest.raises(InstallError, match="headers"):
        install_wheel(manifest, store, {"purelib": "a", "platlib": "a", "scripts": "b",
                                        "data": "c"}, interpreter=sys.executable,
                      supported_tags=None)


def test_uninstall_without_record(tmp_path: Path) -> None:
    dist = tmp_path / "x-1.dist-info"
    dist.mkdir()
    with pytest.raises(InstallError, match="no RECORD"):
        uninstall(dist)


def test_fixture_wheels_install_and_run(fixture_wheels: Path, tmp_path: Path, venv: Path) -> None:
    """Every wheel of the shared fixture index goes through the store and into a venv."""
    store = Store(tmp_path / "store")
    scheme = scheme_of(venv)
    site = Path(scheme["purelib"])
    wheels = sorted(fixture_wheels.rglob("*.whl"))
    assert wheels
    latest: dict[str, Path] = {}
    for wheel in wheels:  # one version per project: later (sorted) versions win
        latest[wheel.name.split("-")[0].lower()] = wheel
    for wheel in latest.values():
        manifest = store.add_wheel(wheel, expected_sha256=hashlib.sha256(
            wheel.read_bytes()).hexdigest())
        result = install_wheel(manifest, store, scheme, interpreter=venv / "bin" / "python",
                               supported_tags=TAGS)
        _check_record(result.dist_info)
    names = py(venv, "import importlib.metadata as m;"
                     "print(sorted(d.metadata['Name'] for d in m.distributions()))").stdout
    assert "Epsilon_Tool" in names or "epsilon-tool" in names.lower()
    out = subprocess.run([str(venv / "bin" / "epsilon-data-script")], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "epsilon data script"
    tool = subprocess.run([str(venv / "bin" / "epsilon-tool")], capture_output=True, text=True,
                          check=False)
    assert tool.returncode == 0, tool.stderr
    for dist in list(site.glob("*.dist-info")):
        uninstall(dist, env_root=venv)
    assert not list(site.glob("*.dist-info"))
    assert not (venv / "bin" / "epsilon-tool").exists()


_MATERIALIZE = """
import sys
from pathlib import Path
from ghostenv.store import Store
from ghostenv.materialize.install import install_wheel
from ghostenv.materialize.link import Linker, LinkMode
store = Store(Path(sys.argv[1]))
manifest = store.add_wheel(Path(sys.argv[2]))
root = Path(sys.argv[3])
scheme = {k: str(root / k) for k in ("purelib", "platlib", "scripts", "headers", "data")}
install_wheel(manifest, store, scheme, interpreter=sys.executable, supported_tags=None,
              linker=Linker(LinkMode(sys.argv[4])))
print("done")
"""


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 1.0])
def test_sigkill_during_materialization_then_rerun(tmp_path: Path, delay: float) -> None:
    """Killed at some point while filling the store or installing, a rerun ends complete."""
    files = {f"crashy/m{i // 50}/f{i}.py": os.urandom(3000) for i in range(1500)}
    wheel = make_wheel(tmp_path, "crashy", files=files,
                       entry_points="[console_scripts]\ncrashy = crashy:main\n")
    args = [sys.executable, "-c", _MATERIALIZE, str(tmp_path / "store"), str(wheel),
            str(tmp_path / "env"), "hardlink"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    again = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300)
    assert again.returncode == 0, again.stderr
    store = Store(tmp_path / "store")
    assert store.verify().corrupt == ()
    dist = tmp_path / "env" / "purelib" / "crashy-1.0.dist-info"
    listed = _check_record(dist)
    assert len(listed) == len(files) + 6  # METADATA WHEEL entry_points RECORD INSTALLER launcher
    for path, data in files.items():
        assert (tmp_path / "env" / "purelib" / path).read_bytes() == data


def test_compile_bytecode(tmp_path: Path, venv: Path) -> None:
    from ghostenv.materialize.install import compile_bytecode

    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path, "compiled", files={
        "compiled/__init__.py": b"X = 1\n", "compiled/broken.py": b"def (:\n"}))
    scheme = scheme_of(venv)
    result = install_wheel(manifest, store, scheme, interpreter=venv / "bin" / "python",
                           supported_tags=TAGS)
    pkg = Path(scheme["purelib"]) / "compiled"
    compile_bytecode(venv / "bin" / "python", list(pkg.glob("*.py")))
    assert [p.name.split(".")[0] for p in (pkg / "__pycache__").glob("*.pyc")] == ["__init__"]
    uninstall(result.dist_info, env_root=venv)
    assert not pkg.exists()


def test_missing_store_object_is_a_store_error(tmp_path: Path) -> None:
    from ghostenv.errors import StoreError

    store = Store(tmp_path / "store")
    manifest = store.add_wheel(make_wheel(tmp_path))
    store.object_path(next(f.sha256 for f in manifest.files
                           if f.path == "demo/__init__.py")).unlink()
    scheme = {k: str(tmp_path / "env" / k) for k in ("purelib", "platlib", "scripts", "headers",
                                                     "data")}
    with pytest.raises(StoreError, match=r"demo/__init__\.py"):
        install_wheel(manifest, store, scheme, interpreter=sys.executable, supported_tags=None)
    assert store.get_manifest(manifest.wheel_sha256) is None  # so the next add repairs it
