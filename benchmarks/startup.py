"""Start-up cost: `ghostenv --version` next to a bare `python -c pass` in the same venv.

The fast path must stay within a few milliseconds of the interpreter's own
start-up. uv's `--version` is printed for reference when uv is installed.

    python benchmarks/startup.py [--runs 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def measure(cmd: list[str], runs: int) -> tuple[float, float]:
    """Median and minimum wall time of ``cmd`` in milliseconds over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    ghostenv = shutil.which("ghostenv", path=str(bindir)) or "ghostenv"
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("python -S -c pass", [sys.executable, "-S", "-c", "pass"]),
        ("ghostenv --version", [ghostenv, "--version"]),
    ]
    uv = shutil.which("uv", path=str(bindir)) or shutil.which("uv")
    if uv:
        rows.append(("uv --version", [uv, "--version"]))
    results = {name: measure(cmd, args.runs) for name, cmd in rows}
    base_median, _ = results["python -c pass"]
    print(f"{'command':<22}{'median ms':>11}{'min ms':>9}{'vs python':>11}{'delta ms':>10}")
    for name, (median, minimum) in results.items():
        print(f"{name:<22}{median:>11.1f}{minimum:>9.1f}{median / base_median:>10.2f}x"
              f"{median - base_median:>+10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
