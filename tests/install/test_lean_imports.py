"""A warm install (everything in the store) imports no pathlib, json or re.

They cost ~6 ms per command with what they pull in (urllib.parse, ipaddress,
fnmatch, the regex compiler); the frozen-sync fast path relies on the engine
not needing them. The subprocess poisons them, so any import fails loudly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ghostenv.discover.probe import probe_cached
from ghostenv.store import Store
from ghostenv.workflow.plan import make_linker
from tests.store.wheelbuild import make_wheel

_WARM_INSTALL = """
import sys
for name in ("pathlib", "json", "re", "dataclasses", "typing", "hashlib"):
    sys.modules[name] = None
from ghostenv.discover.probe import probe_cached
from ghostenv.discover.interpreter import Interpreter
from ghostenv.materialize.venv import create_venv
from ghostenv.store import Store
from ghostenv.workflow.plan import Wanted, install_wanted

python, cache, env, sha, filename = sys.argv[1:6]
data, _ = probe_cached(python, cache)
interp = Interpreter.from_probe(python, data)
store = Store(cache + "/store")
with store.lock_environment(env):
    layout = create_venv(env, interp)
    wanted = [Wanted("demo", "1.0", filename, url="https://example.invalid/" + filename,
                     sha256=sha, requested=True)]
    _plan, report = install_wanted(wanted, layout, store, exact=True)
print(",".join(report.installed))
"""


def test_warm_install_needs_no_pathlib_json_or_re(tmp_path: Path, cache_dir: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", files={"demo/__init__.py": b"X = 1\n",
                                                "demo/sub/data.txt": b"payload"},
                       entry_points="[console_scripts]\ndemo = demo:main\n")
    store = Store(cache_dir / "store")
    manifest = store.add_wheel(wheel)
    # warm: the probe starts a process, and the first link into a file system is a probe too
    probe_cached(sys.executable, cache_dir)
    make_linker(store).link(store.member_path(manifest.files[0]), tmp_path / "probe")
    env = tmp_path / "env"
    proc = subprocess.run([sys.executable, "-c", _WARM_INSTALL, sys.executable, str(cache_dir),
                           str(env), manifest.wheel_sha256, wheel.name],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "demo==1.0"
    site = env / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    assert (site / "demo" / "sub" / "data.txt").read_text() == "payload"
    assert (site / "demo-1.0.dist-info" / "RECORD").is_file()
    assert (env / "bin" / "demo").is_file()
