"""The daily workflow, ghostenv next to uv (and pip): no-op sync, no-op run, cold and
warm-store syncs of the ``web`` workload, and ``run --with``.

The project is ``../shared/workloads/web`` locked once by uv (``uv lock``, the
network), so both tools sync the same lock with the same interpreter. No-op
figures are medians over ``--runs`` alternating runs (ghostenv, uv, ghostenv,
...) so a busy machine slows both alike. Cold means an empty store/cache for
ghostenv and uv, and ``pip install --no-deps --no-cache-dir -r`` of the same
pins (exported from the lock) into a venv that already holds pip.

    python benchmarks/workflow.py [--runs 30] [--cold-runs 3] [--python PATH] [--skip-cold]

The warm-store row has two ghostenv figures: the same sync into a deleted ``.venv``
replays the recipe ghostenv recorded there (``recipe hit``, after two untimed syncs),
and ``GHOSTENV_REPLAY=0`` times the install engine instead; each removal of the previous
``.venv`` is followed by ``os.sync()`` and a 50 ms pause, untimed. ``GHOSTENV_REPLAY``
and ``*_PROJECT_ENVIRONMENT`` from the outer shell are dropped for every child.

Bytecode: ghostenv runs from source here; the first run writes its .pyc files
(PYTHONDONTWRITEBYTECODE is dropped for the children), as in a real install.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _common import child_env, settle

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE.parent.parent / "shared" / "workloads" / "web"
BIN = Path(sys.executable).parent


def _env(**extra: str) -> dict[str, str]:
    return child_env(**extra)


def _once(cmd: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    took = (time.perf_counter() - start) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stderr}")
    return took


def _alternate(a: tuple[Sequence[str], Path, dict[str, str]],
               b: tuple[Sequence[str], Path, dict[str, str]], runs: int) -> tuple[float, float]:
    """Medians of two commands run in turn ``runs`` times each (after one warm-up each)."""
    _once(*a)
    _once(*b)
    ta, tb = [], []
    for _ in range(runs):
        ta.append(_once(*a))
        tb.append(_once(*b))
    return statistics.median(ta), statistics.median(tb)


def _row(name: str, ghost: float, other: float, other_name: str = "uv") -> None:
    print(f"{name:<44} ghostenv {ghost:9.1f} ms   {other_name} {other:9.1f} ms   "
          f"ratio {ghost / other:5.2f}", flush=True)


def _project(root: Path, lock_from: Path | None) -> Path:
    root.mkdir(parents=True)
    shutil.copy(WORKLOAD / "pyproject.toml", root)
    if lock_from is not None:
        shutil.copy(lock_from, root / "uv.lock")
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--python", default=None,
                        help="interpreter path (default: this one's base)")
    parser.add_argument("--skip-cold", action="store_true")
    args = parser.parse_args()
    uv = shutil.which("uv", path=str(BIN)) or shutil.which("uv")
    ghostenv = shutil.which("ghostenv", path=str(BIN))
    if uv is None or ghostenv is None:
        raise SystemExit("needs uv and ghostenv installed beside this Python")
    python = args.python or os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True)
    print(f"python {python}; {version.stdout.strip()}")
    with tempfile.TemporaryDirectory(prefix="ghostenv-bench-workflow-") as tmp:
        scratch = Path(tmp)
        uv_cache = scratch / "uv-cache"
        g_cache = scratch / "g-cache"
        uv_env = _env(UV_CACHE_DIR=str(uv_cache), UV_PYTHON=python, UV_NO_CONFIG="1")
        g_env = _env(GHOSTENV_CACHE_DIR=str(g_cache))
        locker = _project(scratch / "lock", None)
        _once([uv, "lock", "--python", python], locker, uv_env)
        lock = locker / "uv.lock"

        g_proj = _project(scratch / "g", lock)
        u_proj = _project(scratch / "u", lock)
        _once([ghostenv, "sync", "--python", python], g_proj, g_env)
        _once([uv, "sync", "--python", python], u_proj, uv_env)

        g, u = _alternate(([ghostenv, "sync"], g_proj, g_env), ([uv, "sync"], u_proj, uv_env),
                          args.runs)
        _row("no-op sync (web)", g, u)
        floor, _ = _alternate(([sys.executable, "-c", "pass"], g_proj, g_env),
                              ([ghostenv, "sync"], g_proj, g_env), max(5, args.runs // 3))
        print(f"{'  floor: this python -c pass':<44} {floor:9.1f} ms (ghostenv's own start-up)")
        g, u = _alternate(([ghostenv, "run", "python", "-c", "pass"], g_proj, g_env),
                          ([uv, "run", "python", "-c", "pass"], u_proj, uv_env), args.runs)
        _row("no-op run python -c pass", g, u)
        g, u = _alternate(([ghostenv, "status"], g_proj, g_env),
                          ([uv, "sync", "--check"], u_proj, uv_env), args.runs)
        _row("status vs uv sync --check", g, u)

        # warm store, new environment: ghostenv replays the recipe its last fresh sync into
        # this .venv recorded; GHOSTENV_REPLAY=0 is the install engine's path
        tg, te, tu = [], [], []
        no_replay = {**g_env, "GHOSTENV_REPLAY": "0"}

        def fresh(env_dir: Path) -> None:  # untimed; the removal's deferred work settles too
            shutil.rmtree(env_dir, ignore_errors=True)
            settle()

        for _ in range(2):  # the second sync at a path records its recipe
            fresh(g_proj / ".venv")
            _once([ghostenv, "sync", "--python", python], g_proj, g_env)
        for i in range(max(5, args.cold_runs)):
            fresh(g_proj / ".venv")
            tg.append(_once([ghostenv, "sync", "--python", python], g_proj, g_env))
            fresh(g_proj / ".venv")
            te.append(_once([ghostenv, "sync", "--python", python], g_proj, no_replay))
            fresh(u_proj / ".venv")
            tu.append(_once([uv, "sync", "--python", python], u_proj, uv_env))
            del i
        _row("warm store, new .venv (web, recipe hit)", statistics.median(tg),
             statistics.median(tu))
        _row("warm store, new .venv (web, REPLAY=0)", statistics.median(te),
             statistics.median(tu))

        if not args.skip_cold:
            _cold(args.cold_runs, scratch, lock, python=python, ghostenv=ghostenv, uv=uv)

        hello = g_proj / "hello.py"
        hello.write_text("import rich\nprint('hello')\n")
        with_cmd = [ghostenv, "run", "--with", "rich", "python", "hello.py"]
        proc = subprocess.run(with_cmd, cwd=g_proj, env=g_env, capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            print(f"run --with: not available ({proc.stderr.strip().splitlines()[-1:]})")
        else:
            shutil.copy(hello, u_proj / "hello.py")
            u_with = [uv, "run", "--with", "rich", "python", "hello.py"]
            empty = scratch / "with-cold"
            first_g = []
            for i in range(3):
                shutil.rmtree(empty, ignore_errors=True)
                # warm store, no ephemeral environment or lookup entry yet
                shutil.copytree(g_cache, empty, ignore=shutil.ignore_patterns("ephemeral-v1"))
                first_g.append(_once(with_cmd, g_proj,
                                     _env(GHOSTENV_CACHE_DIR=str(empty))))
                del i
            print(f"{'run --with rich, first (warm store)':<44} ghostenv "
                  f"{statistics.median(first_g):9.1f} ms")
            g, u = _alternate((with_cmd, g_proj, g_env), (u_with, u_proj, uv_env), args.runs)
            _row("run --with rich python hello.py (second)", g, u)
    return 0


def _cold(runs: int, scratch: Path, lock: Path, *, python: str, ghostenv: str, uv: str) -> None:
    """Empty store/cache each run; the lock is present."""
    tg, tu, tp = [], [], []
    req = scratch / "req.txt"
    with req.open("w") as out:
        subprocess.run([uv, "export", "--frozen", "--no-hashes", "--no-emit-project",
                        "--no-dev", "--no-header"], cwd=scratch / "g", stdout=out, check=True,
                       env=_env(UV_NO_CONFIG="1"))
    pip_venv = scratch / "pip-venv"
    for i in range(runs):
        g_cache = scratch / f"cold-g-{i}"
        u_cache = scratch / f"cold-u-{i}"
        g = _project(scratch / f"cold-gp-{i}", lock)
        u = _project(scratch / f"cold-up-{i}", lock)
        tg.append(_once([ghostenv, "sync", "--python", python], g,
                        _env(GHOSTENV_CACHE_DIR=str(g_cache))))
        tu.append(_once([uv, "sync", "--python", python], u,
                        _env(UV_CACHE_DIR=str(u_cache), UV_NO_CONFIG="1")))
        shutil.rmtree(pip_venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(pip_venv)], check=True)
        tp.append(_once([str(pip_venv / "bin" / "pip"), "install", "-q", "--no-deps",
                         "--no-cache-dir", "--disable-pip-version-check", "-r", str(req)],
                        scratch, _env()))
    _row("cold sync, empty store (web)", statistics.median(tg), statistics.median(tu))
    _row("cold sync vs pip install -r (no cache)", statistics.median(tg),
         statistics.median(tp), "pip")


if __name__ == "__main__":
    raise SystemExit(main())
