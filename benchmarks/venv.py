"""Venv creation alone: ghostenv's factory in-process and its CLI, next to
``python -m venv --without-pip`` and ``uv venv`` (when uv sits beside this Python).

Every contender builds a fresh environment for the same base interpreter in a
new directory each run; contenders are interleaved run by run, so load from
other processes falls on all of them alike. The interpreter lookup is warm
(ghostenv's probe cache and remembered find filled once before timing, as they
are after a user's first command; uv's interpreter cache likewise). Printed:
median and best wall ms, median CPU ms (user + system of the child), and the
ratios to ``python -m venv`` and to ``uv venv``. Targets: the factory under
10 ms, the CLI clearly under ``python -m venv``.

    python benchmarks/venv.py [--runs 20] [--python 3.12]
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

from ghostenv.discover import find_interpreter
from ghostenv.materialize.venv import create_venv


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default="3.12", help="interpreter request (default 3.12)")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="ghostenv-bench-venv-") as tmp:
        scratch = Path(tmp)
        cache = scratch / "cache"
        env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache),
               "UV_CACHE_DIR": str(scratch / "uv-cache")}
        env.pop("VIRTUAL_ENV", None)
        interp = find_interpreter(args.python, cache)  # fills the probe cache and the memo
        base = str(interp.base_executable)
        ghostenv = shutil.which("ghostenv", path=str(bindir)) or "ghostenv"

        def run(cmd: list[str]) -> Callable[[Path], object]:
            return lambda target: subprocess.run([*cmd, str(target)], check=True, env=env,
                                                 stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL)

        rows: list[tuple[str, Callable[[Path], object], Callable[[], float]]] = [
            ("ghostenv factory (in-process)", lambda target: create_venv(target, interp),
             _self_cpu),
            ("ghostenv venv (CLI)", run([ghostenv, "venv", "-q", "--python", args.python]),
             _children_cpu),
            ("python -m venv --without-pip", run([base, "-m", "venv", "--without-pip"]),
             _children_cpu),
        ]
        uv = bindir / "uv"
        if uv.exists():
            rows.append(("uv venv", run([str(uv), "venv", "-q", "--python", base]),
                         _children_cpu))
        for _label, action, _cpu in rows:  # warm every contender once (uv's own caches too)
            action(scratch / f"warm-{len(os.listdir(scratch))}")
        wall: dict[str, list[float]] = {label: [] for label, _, _ in rows}
        cpu: dict[str, list[float]] = {label: [] for label, _, _ in rows}
        for i in range(args.runs):
            for label, action, clock in rows:
                target = scratch / f"env-{i}-{len(wall[label])}-{label.split()[0]}"
                cpu_start = clock()
                start = time.perf_counter()
                action(target)
                wall[label].append((time.perf_counter() - start) * 1000)
                cpu[label].append((clock() - cpu_start) * 1000)
        load = os.getloadavg()[0]
        print(f"Python {interp.key} at {base}; {args.runs} runs each, interleaved, fresh "
              f"directory per run (load average {load:.1f})")
        ref = statistics.median(wall["python -m venv --without-pip"])
        uv_ref = statistics.median(wall["uv venv"]) if "uv venv" in wall else None
        print(f"{'contender':32} {'median ms':>9} {'best ms':>8} {'cpu ms':>7} "
              f"{'vs python -m venv':>17} {'vs uv venv':>10}")
        for label, _, _ in rows:
            median = statistics.median(wall[label])
            vs_uv = f"{median / uv_ref:9.2f}x" if uv_ref else f"{'-':>10}"
            print(f"{label:32} {median:9.2f} {min(wall[label]):8.2f} "
                  f"{statistics.median(cpu[label]):7.2f} {median / ref:16.2f}x {vs_uv}")
        factory = statistics.median(wall["ghostenv factory (in-process)"])
        cli = statistics.median(wall["ghostenv venv (CLI)"])
        print(f"targets: factory < 10 ms -> {'met' if factory < 10 else 'NOT met'}; "
              f"CLI < python -m venv -> {'met' if cli < ref else 'NOT met'} "
              f"({cli / ref:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
