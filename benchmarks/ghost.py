"""`ghostenv ghost REV`: environments for commits whose locks differ, and for a lock seen before.

Issue 8's targets: with a warm store, five commits whose locks differ each get their
environment in under 300 ms; a commit whose lock was seen before, in under 50 ms.
The history is a temporary git repository of six commits (five distinct locks, each
written by the real `uv lock`) against the fixture index this repository's tests
serve on 127.0.0.1. A bare `python -c pass` is printed as the floor.

    python benchmarks/ghost.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import timed

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HISTORY = [
    ["beta==0.9.0"],
    ["beta==1.0.0"],
    ["beta==1.0.0", "gamma"],
    ["beta==1.2.0", "gamma"],
    ["alpha==1.1.0", "epsilon-tool", "zeta-big"],
    ["alpha==1.1.0", "epsilon-tool", "zeta-big"],  # same lock as the commit before
]


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall ms, CPU ms of the child) of one successful run."""
    return timed(cmd, cwd, env)[:2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from tests.support.builder import build_all
    from tests.support.index_server import IndexServer

    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    if not Path(uv).exists():
        raise SystemExit("uv is needed to write the commits' locks (pip install uv)")
    work = Path(tempfile.mkdtemp(prefix="ghostenv-ghost-bench-"))
    server = IndexServer(build_all(work / "fixtures"))
    server.start()
    try:
        root = work / "repo"
        root.mkdir()
        env = {**os.environ, "GHOSTENV_CACHE_DIR": str(work / "cache"),
               "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b",
               "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)

        def git(*argv: str) -> str:
            return subprocess.run(["git", *argv], cwd=root, env=env, check=True,
                                  capture_output=True, text=True).stdout.strip()

        git("init", "-q", "-b", "main")
        commits = []
        for i, deps in enumerate(HISTORY):
            listed = ", ".join(f'"{d}"' for d in deps)
            (root / "pyproject.toml").write_text(
                f'[project]\nname = "b"\nversion = "0"\nrequires-python = ">=3.11"\n'
                f"dependencies = [{listed}]\n[tool.uv]\npackage = false\n")
            (root / "code.py").write_text(f"{i}\n")
            subprocess.run([uv, "lock", "-q", "--no-config", "--index-url", server.simple_url,
                            "--python", sys.executable, "--cache-dir", str(work / "uv-cache")],
                           cwd=root, check=True, env=env)
            git("add", ".")
            git("commit", "-q", "-m", str(i))
            commits.append(git("rev-parse", "HEAD"))

        ghost = [sys.executable, "-m", "ghostenv", "ghost", "--python", sys.executable]
        for commit in commits:  # warm the store: every wheel downloaded once
            _timed([*ghost, commit], root, env)
        fresh: list[float] = []
        seen: list[float] = []
        for _ in range(args.rounds):
            shutil.rmtree(work / "cache" / "ghost", ignore_errors=True)
            fresh += [_timed([*ghost, c], root, env)[0] for c in commits[:5]]
            seen += [_timed([*ghost, c], root, env)[0] for c in commits]
        floor = [_timed([sys.executable, "-c", "pass"], root, env)[0] for _ in range(10)]
        print(f"new lock, warm store      median {statistics.median(fresh):7.1f} ms  "
              f"max {max(fresh):7.1f} ms  (target < 300 ms each)")
        print(f"lock seen before          median {statistics.median(seen):7.1f} ms  "
              f"max {max(seen):7.1f} ms  (target < 50 ms)")
        print(f"floor: python -c pass     median {statistics.median(floor):7.1f} ms")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
