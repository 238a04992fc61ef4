"""What the benchmark scripts share: the children's environment, one timed run, the
settled start state, the distributions an environment holds, and the results table.

The scripts run as ``python benchmarks/<name>.py``, so this directory is first on
``sys.path`` and they import it as ``_common``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

#: Outer variables that would change what a row measures (each row sets what it means):
#: a shell that forbids .pyc writes, an active venv, ghostenv's replay switch, and a
#: project-environment override that would move where a sync goes.
DROP = ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "GHOSTENV_REPLAY",
        "GHOSTENV_PROJECT_ENVIRONMENT", "UV_PROJECT_ENVIRONMENT")

#: Seconds to wait after ``os.sync()`` before a timed run.
PAUSE = 0.05


def child_env(*, drop: Iterable[str] = (), **extra: str) -> dict[str, str]:
    """This process's environment without :data:`DROP` (and ``drop``), plus ``extra``.

    Other ``GHOSTENV_*`` variables (``GHOSTENV_LINK_MODE`` ...) pass through.
    """
    gone = {*DROP, *drop}
    env = {k: v for k, v in os.environ.items() if k not in gone}
    env.update(extra)
    return env


def timed(cmd: list[str], cwd: Path | None, env: Mapping[str, str]) -> tuple[float, float, str]:
    """(wall ms, CPU ms of the child process tree, stderr) of one run that must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=dict(env), capture_output=True, text=True,
                          check=False)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout}\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu, proc.stderr


def settle() -> None:
    """Let the filesystem finish the last removal before a timed run (every row alike).

    Removing an environment of thousands of files leaves ext4 busy (deferred inode frees,
    the journal) for whatever runs next; without this, the row that happens to follow a
    removal pays for it. ``os.sync()`` and a short pause, not timed.
    """
    os.sync()
    time.sleep(PAUSE)


def dists(env_dir: Path) -> frozenset[str]:
    """The ``name-version`` of every distribution in the environment (dist-info names)."""
    return frozenset(p.name.removesuffix(".dist-info").lower()
                     for p in env_dir.glob("lib/python*/site-packages/*.dist-info"))


def table(results: Mapping[str, list[tuple[float, float]]], ref: str) -> None:
    """One line per contender: median and minimum wall ms, median CPU ms, ratios to ``ref``."""
    ref_wall = statistics.median(w for w, _ in results[ref])
    ref_cpu = statistics.median(c for _, c in results[ref])
    width = max(map(len, results))
    print(f"{'contender':{width}} {'wall ms':>8} {'min':>7} {'vs uv':>6} {'cpu ms':>8} "
          f"{'vs uv':>6}")
    for label, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"{label:{width}} {wall:8.1f} {min(w for w, _ in rows):7.1f} "
              f"{wall / ref_wall:6.2f} {cpu:8.1f} {cpu / ref_cpu:6.2f}")
