"""Venv creation alone: ghostenv's factory in-process and via the CLI, next to
``python -m venv --without-pip`` and ``uv venv`` (when uv sits beside this Python).

Every contender builds a fresh environment for the same base interpreter in a
new directory each run; the interpreter lookup is warm (ghostenv's probe cache
filled once before timing, as it is after a user's first command). Target: the
in-process factory under 10 ms.

    python benchmarks/venv.py [--runs 20] [--python 3.12]
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
from collections.abc import Callable
from pathlib import Path

from ghostenv.discover import find_interpreter
from ghostenv.materialize.venv import create_venv


def _time(action: Callable[[Path], object], runs: int, scratch: Path) -> tuple[float, float]:
    """Median and minimum milliseconds of ``action(new_dir)`` over ``runs`` runs."""
    times = []
    for i in range(runs):
        target = scratch / f"env-{len(os.listdir(scratch))}-{i}"
        start = time.perf_counter()
        action(target)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", default="3.12", help="interpreter request (default 3.12)")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="ghostenv-bench-venv-") as tmp:
        scratch = Path(tmp)
        cache = scratch / "cache"
        env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache)}
        interp = find_interpreter(args.python, cache)  # fills the probe cache
        base = str(interp.base_executable)
        ghostenv = shutil.which("ghostenv", path=str(bindir)) or "ghostenv"

        def run(cmd: list[str]) -> Callable[[Path], object]:
            return lambda target: subprocess.run(
                [*cmd, str(target)] if "{}" not in cmd else [c.replace("{}", str(target))
                                                            for c in cmd],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

        rows: list[tuple[str, Callable[[Path], object]]] = [
            ("ghostenv factory (in-process)", lambda target: create_venv(target, interp)),
            ("ghostenv venv (CLI, warm find)",
             run([ghostenv, "venv", "-q", "--python", args.python])),
            ("ghostenv venv fast_main (no argparse)",
             run([sys.executable, "-c", "import sys; from ghostenv.cli.venv import fast_main; "
                  "sys.exit(fast_main(sys.argv[1:]))", "venv", "-q", "--python", args.python])),
            ("python -m venv --without-pip", run([base, "-m", "venv", "--without-pip"])),
        ]
        uv = bindir / "uv"
        if uv.exists():
            rows.append(("uv venv", run([str(uv), "venv", "-q", "--python", base])))
        results = []
        for label, action in rows:
            sub = scratch / label.split()[0].replace("/", "_") / str(len(results))
            sub.mkdir(parents=True)
            results.append((label, *_time(action, args.runs, sub)))
        print(f"Python {interp.key} at {base}; {args.runs} runs each, fresh directory per run")
        print(f"{'contender':38} {'median ms':>10} {'min ms':>8} {'vs python -m venv':>18}")
        reference = next(m for label, m, _ in results if label.startswith("python -m venv"))
        for label, median, best in results:
            print(f"{label:38} {median:10.2f} {best:8.2f} {median / reference:17.3f}x")
        factory = results[0][1]
        print(f"target: in-process factory < 10 ms -> {'met' if factory < 10 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
