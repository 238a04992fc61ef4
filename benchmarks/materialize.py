"""Fresh environment from a warm cache: ghostenv vs uv vs pip; disk cost of ten environments.

For each workload of ``../shared/workloads`` (``web``, ``data``) the project is
copied to a scratch directory and locked with uv; its pins come from
``uv export``. Every contender fills its own cache once (not timed), then builds
a brand-new environment ``--runs`` times, contenders interleaved run by run so
that load from other processes falls on all of them alike (medians printed):

- ``ghostenv sync --frozen`` vs ``uv sync --frozen`` (from uv.lock; ghostenv started by its
  console script, as users start it). ghostenv keeps a recipe per environment path (its
  last fresh sync's operations, replayed when the inputs are the same), so it has three
  rows: ``recipe hit`` (the project's ``.venv`` again; warmed up until it replays),
  ``no recipe`` (``GHOSTENV_REPLAY=0``: the install engine) and ``miss`` (a new
  ``GHOSTENV_PROJECT_ENVIRONMENT`` path every run: a first-ever sync at a path);
- ``ghostenv install -r pins.txt`` vs ``uv venv`` + ``uv pip install -r pins.txt`` vs
  ``python -m venv`` + ``pip install -r pins.txt`` (pip's own wheel cache warm);
- the install engine alone, in-process (``ghostenv.workflow.plan``), for reference.

``--disk`` then builds ten environments of the ``data`` workload with ghostenv into
an empty store and compares ``du`` of store + ten environments with store + one.
Needs the network (PyPI) for the first fill of each cache.

This tree is byte-compiled first. Children get their own ``GHOSTENV_CACHE_DIR``,
``UV_CACHE_DIR`` and ``PIP_CACHE_DIR``, ``UV_LINK_MODE=hardlink``, and no
``VIRTUAL_ENV``, ``PYTHONDONTWRITEBYTECODE``, ``GHOSTENV_REPLAY`` or
``*_PROJECT_ENVIRONMENT`` from the outer shell (each row sets what it means); other
``GHOSTENV_*`` variables (e.g. ``GHOSTENV_LINK_MODE``) pass through.

    python benchmarks/materialize.py [--runs 5] [--python 3.12] [--workloads web data] [--disk]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import child_env, dists, settle

HERE = Path(__file__).resolve().parent
WORKLOADS = HERE.parent.parent / "shared" / "workloads"


HIT = "ghostenv sync --frozen (recipe hit)"
NO_RECIPE = "ghostenv sync --frozen (no recipe: GHOSTENV_REPLAY=0)"
MISS = "ghostenv sync --frozen (miss: new env path each run)"
def _base_env() -> dict[str, str]:
    return child_env()


def _run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    return sum(_cpu_split())


def _cpu_split() -> tuple[float, float]:
    """(user, system) CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + kids.ru_utime, me.ru_stime + kids.ru_stime


#: Median system (kernel) CPU ms per contender label, from the last :func:`_medians` calls.
SYSTEM_MS: dict[str, float] = {}

#: Wall, user and system seconds spent in :func:`_fresh` since :func:`_medians` last looked.
_UNTIMED = [0.0, 0.0, 0.0]


def _fresh(path: Path) -> None:
    """Remove an environment left by an earlier run; its cost is not charged to the row.

    (What is left differs by contender -- uv's environment, ghostenv's, pip's -- so
    removing it inside the timing would charge one contender for another's files.)
    Then ``os.sync()`` and a 50 ms pause, also not charged: removing thousands of files
    keeps ext4 busy for a while, which must not fall on whichever row runs next.
    """
    user, system = _cpu_split()
    start = time.perf_counter()
    shutil.rmtree(path, ignore_errors=True)
    settle()  # the removal's deferred work must not fall on the next (timed) command
    _UNTIMED[0] += time.perf_counter() - start
    user_end, sys_end = _cpu_split()
    _UNTIMED[1] += user_end - user
    _UNTIMED[2] += sys_end - system


def _medians(actions: list[tuple[str, Callable[[int], None]]], runs: int
             ) -> list[tuple[str, float, float]]:
    """Median wall ms and median CPU ms of each action, run round-robin ``runs`` times.

    CPU time is reported beside wall time because the machine is shared: under
    load, wall time measures the neighbours as much as the contender.
    """
    wall: dict[str, list[float]] = {label: [] for label, _ in actions}
    cpu: dict[str, list[float]] = {label: [] for label, _ in actions}
    system: dict[str, list[float]] = {label: [] for label, _ in actions}
    for i in range(runs):
        for label, action in actions:
            _UNTIMED[:] = [0.0, 0.0, 0.0]
            user_start, sys_start = _cpu_split()
            start = time.perf_counter()
            action(i)
            took = time.perf_counter() - start - _UNTIMED[0]
            user_end, sys_end = _cpu_split()
            user_s = user_end - user_start - _UNTIMED[1]
            sys_s = sys_end - sys_start - _UNTIMED[2]
            wall[label].append(took * 1000)
            cpu[label].append((user_s + sys_s) * 1000)
            system[label].append(sys_s * 1000)
    SYSTEM_MS.update({label: statistics.median(v) for label, v in system.items()})
    return [(label, statistics.median(wall[label]), statistics.median(cpu[label]))
            for label, _ in actions]


def _du(*paths: Path) -> int:
    """Kilobytes ``du`` reports for the paths together (a hardlinked inode counts once)."""
    out = subprocess.run(["du", "-sk", "-c", *map(str, paths)], capture_output=True, text=True,
                         check=True).stdout
    return int(out.strip().splitlines()[-1].split()[0])


def bench_workload(name: str, runs: int, python: str,
                   scratch: Path) -> list[tuple[str, float, float]]:
    """Time every contender on one workload; returns (label, median wall ms, median CPU ms)."""
    from ghostenv.discover import find_interpreter

    bindir = Path(sys.executable).parent
    uv = str(bindir / "uv") if (bindir / "uv").exists() else "uv"
    # started as users start it: the console script pip installed beside this interpreter
    # (python -m ghostenv would add runpy, ~4 ms); python -m only when there is none
    script = bindir / "ghostenv"
    ghostenv = [str(script)] if script.exists() else [sys.executable, "-m", "ghostenv"]
    project = scratch / name
    shutil.copytree(WORKLOADS / name, project)
    cache = scratch / f"{name}-ghostenv-cache"
    uv_cache = scratch / f"{name}-uv-cache"
    pip_cache = scratch / f"{name}-pip-cache"
    env = {**_base_env(), "GHOSTENV_CACHE_DIR": str(cache), "UV_CACHE_DIR": str(uv_cache),
           "PIP_CACHE_DIR": str(pip_cache), "UV_LINK_MODE": "hardlink"}
    interp = find_interpreter(python, cache)
    base = str(interp.base_executable)
    _run([uv, "lock", "-q", "--python", base], cwd=project, env=env)
    _run([uv, "export", "-q", "--frozen", "--no-hashes", "--no-emit-project", "--no-dev",
          "-o", "pins.txt"], cwd=project, env=env)
    pins = project / "pins.txt"
    venv_dir = project / ".venv"

    # fill each cache once; both syncs must build the same environment
    _run([*ghostenv, "sync", "--frozen", "--no-dev", "--python", base], cwd=project, env=env)
    ghostenv_holds = dists(venv_dir)
    _fresh(venv_dir)
    _run([uv, "sync", "-q", "--frozen", "--no-dev", "--python", base], cwd=project, env=env)
    if dists(venv_dir) != ghostenv_holds:
        raise SystemExit(f"{name}: ghostenv and uv synced different distributions: "
                         f"{sorted(ghostenv_holds ^ dists(venv_dir))}")
    pip_env = scratch / f"{name}-pip-fill"
    _run([base, "-m", "venv", str(pip_env)], env=env)
    _run([str(pip_env / "bin" / "pip"), "install", "-q", "-r", str(pins)], env=env)

    rows: list[tuple[str, float, float]] = []

    gsync_cmd = [*ghostenv, "sync", "--frozen", "--no-dev", "--python", base]

    def gsync(_i: int) -> None:
        _fresh(venv_dir)
        _run(gsync_cmd, cwd=project, env=env)

    no_replay = {**env, "GHOSTENV_REPLAY": "0"}

    def gsync_engine(_i: int) -> None:
        _fresh(venv_dir)
        _run(gsync_cmd, cwd=project, env=no_replay)

    def gsync_miss(i: int) -> None:
        _fresh(project / f".venv-miss-{i - 1}")
        target = project / f".venv-miss-{i}"
        _run(gsync_cmd, cwd=project, env={**env, "GHOSTENV_PROJECT_ENVIRONMENT": str(target)})

    def usync(_i: int) -> None:
        _fresh(venv_dir)
        _run([uv, "sync", "-q", "--frozen", "--no-dev", "--python", base], cwd=project, env=env)


    target = scratch / f"{name}-target"

    def ginstall(_i: int) -> None:
        _fresh(target)
        _run([*ghostenv, "install", "--venv", str(target), "--python", base, "-r", str(pins)],
             env=env)

    def uinstall(_i: int) -> None:
        _fresh(target)
        _run([uv, "venv", "-q", "--python", base, str(target)], env=env)
        _run([uv, "pip", "install", "-q", "--python", str(target / "bin" / "python"), "-r",
              str(pins)], env=env)

    def pinstall(_i: int) -> None:
        _fresh(target)
        _run([base, "-m", "venv", str(target)], env=env)
        _run([str(target / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
              "-r", str(pins)], env=env)

    # untimed until it replays: a recipe is recorded by the second sync into a path (the
    # first registers it), and not for a lock written < 1 s before
    for _ in range(5):
        _fresh(venv_dir)
        warm = subprocess.run(gsync_cmd, cwd=project, env={**env, "GHOSTENV_TIMINGS": "1"},
                              capture_output=True, text=True, check=False)
        if "timings: replay: " in warm.stderr:
            break
    else:
        print(f"{name}: warning: the recipe-hit row never replayed in its warm-up")
    rows += _medians([(HIT, gsync), (NO_RECIPE, gsync_engine), (MISS, gsync_miss),
                      ("uv sync --frozen", usync),
                      ("ghostenv install -r pins", ginstall),
                      ("uv venv + uv pip install -r pins", uinstall),
                      ("engine in-process (plan+apply)", _engine(project, interp, cache))],
                     runs)
    rows += _medians([("python -m venv + pip install -r", pinstall)], max(1, runs // 3))
    return rows


def _engine(project: Path, interp: object, cache: Path) -> Callable[[int], None]:
    """Only the install engine: venv factory + plan + apply, imports already paid."""
    from ghostenv.lock.export import ExportOptions, select_packages
    from ghostenv.lock.read import read_lock
    from ghostenv.materialize.venv import create_venv
    from ghostenv.store import Store
    from ghostenv.workflow.plan import Wanted, install_wanted
    from ghostenv.workflow.sources import choose_wheel

    lock = read_lock(project / "uv.lock")
    tags = interp.tag_strings()  # type: ignore[attr-defined]
    packages = select_packages(lock, ExportOptions(groups=()), interp.markers)  # type: ignore[attr-defined]
    wanted = []
    for package in packages:
        if package.source.kind not in ("registry", "url", "path"):
            continue
        chosen = choose_wheel(package, tags, project)
        wanted.append(Wanted(chosen.name, chosen.version, chosen.filename, url=chosen.url,
                             sha256=chosen.sha256, requested=True))
    store = Store(cache / "store")
    target = project / "engine-env"

    def once(_i: int) -> None:
        _fresh(target)
        layout = create_venv(target, interp)  # type: ignore[arg-type]
        install_wanted(wanted, layout, store, exact=True)

    return once


def disk(python: str, scratch: Path, count: int = 10) -> tuple[int, int]:
    """(kB of store + one env, kB of store + ``count`` envs) for the data workload."""
    from ghostenv.discover import find_interpreter

    project = scratch / "data-disk"
    shutil.copytree(WORKLOADS / "data", project)
    cache = scratch / "disk-cache"
    env = {**_base_env(), "GHOSTENV_CACHE_DIR": str(cache)}
    base = str(find_interpreter(python, cache).base_executable)
    bindir = Path(sys.executable).parent
    uv = str(bindir / "uv") if (bindir / "uv").exists() else "uv"
    _run([uv, "lock", "-q", "--python", base], cwd=project, env=env)
    envs = []
    for i in range(count):
        target = scratch / f"data-env-{i}"
        _run([sys.executable, "-m", "ghostenv", "sync", "--frozen", "--no-dev", "--python", base],
             cwd=project, env={**env, "GHOSTENV_PROJECT_ENVIRONMENT": str(target)})
        envs.append(target)
    store = cache / "store"
    return _du(store, envs[0]), _du(store, *envs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--workloads", nargs="*", default=["web", "data"])
    parser.add_argument("--disk", action="store_true", help="also the ten-environment disk test")
    args = parser.parse_args()
    # byte-compiled first, as an installed ghostenv is (this shell may forbid .pyc writes)
    source = HERE.parent / "src" / "ghostenv"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(source)], env=_base_env(),
                   check=False)
    with tempfile.TemporaryDirectory(prefix="ghostenv-bench-mat-") as tmp:
        scratch = Path(tmp)
        for name in args.workloads:
            rows = bench_workload(name, args.runs, args.python, scratch)
            by = {label: (w, c) for label, w, c in rows}
            uv_sync = by["uv sync --frozen"]
            uv_pip = by["uv venv + uv pip install -r pins"]
            pip = by["python -m venv + pip install -r"]
            print(f"\nworkload {name}: fresh environment, warm caches, median of {args.runs} runs"
                  f" (load average {os.getloadavg()[0]:.1f})")
            print(f"{'contender':53} {'wall ms':>9} {'vs uv':>7} {'vs pip':>7} {'cpu ms':>9}"
                  f" {'vs uv':>7} {'vs pip':>7} {'of it sys':>9}")
            for label, wall, cpu in rows:
                ref = uv_pip if "install" in label and "sync" not in label else uv_sync
                print(f"{label:53} {wall:9.1f} {wall / ref[0]:6.2f}x {wall / pip[0]:6.3f}x "
                      f"{cpu:9.1f} {cpu / ref[1]:6.2f}x {cpu / pip[1]:6.3f}x "
                      f"{SYSTEM_MS.get(label, 0.0):9.1f}")
            print("(sys: kernel CPU -- directories and links are the same syscalls for every "
                  "contender; removing the previous environment is not counted)")
        if args.disk:
            one, ten = disk(args.python, scratch)
            print(f"\ndisk, data workload: store + 1 env {one / 1024:.1f} MiB, store + 10 envs "
                  f"{ten / 1024:.1f} MiB -> {ten / one:.3f}x (target < 1.1x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
