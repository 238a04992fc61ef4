"""Benchmark ``ghostenv peek`` on the 100 names of ../shared/workloads/top100.txt (real PyPI).

Runs, each timed end to end (wall, and CPU of the process from rusage):
  1. ghostenv peek, cold cache (fresh temp cache dir)
  2. ghostenv peek, warm cache (same dir: pages revalidated, metadata from the cache),
     then the same with --offline (no request at all: the floor set by parsing)
  3. a sequential httpx baseline: page then newest wheel's .metadata, one package at a time
  4. ``pip index versions`` for a sample of names (pip fetches only the page), one by one
Steps 1-2 repeat ``--repeat`` times (medians printed, every sample listed); with
``--compare SRC`` another ghostenv source tree (``SRC/src``, e.g. an older commit from
``git archive``) runs interleaved with this one, for before/after figures from one run.
The issue's targets: cold under 2 s, warm (revalidation) under 1 s.

Usage: ``python benchmarks/peek.py [--sample N] [--repeat N] [--compare SRC]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOP100 = REPO.parent / "shared" / "workloads" / "top100.txt"
TARGETS = {"cold": 2.0, "warm": 1.0}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peek(cache: Path, names: list[str], src: Path | None, *flags: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, summary line) of one ``ghostenv peek`` process."""
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache)}
    if src is not None:
        env["PYTHONPATH"] = str(src / "src")
    cpu = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ghostenv", *flags, "peek", *names],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    lines = proc.stderr.strip().splitlines()
    return elapsed, _children_cpu() - cpu, lines[-1] if lines else f"exit {proc.returncode}"


def sequential_baseline(names: list[str]) -> tuple[float, int]:
    import httpx

    from ghostenv.index.client import PYPI, _ssl_context
    from ghostenv.index.html import parse_html

    start = time.perf_counter()
    total = 0
    with httpx.Client(http2=True, verify=_ssl_context(), follow_redirects=True) as client:
        for name in names:
            resp = client.get(PYPI + name + "/")
            total += len(resp.content)
            page = parse_html(resp.text, str(resp.url), name)
            wheels = [f for f in page.files if f.is_wheel]
            if wheels:
                meta = client.get(wheels[-1].url + ".metadata")
                total += len(meta.content)
    return time.perf_counter() - start, total


def pip_versions(names: list[str]) -> float:
    start = time.perf_counter()
    for name in names:
        subprocess.run([sys.executable, "-m", "pip", "index", "versions", name,
                        "--no-cache-dir", "--isolated", "--index-url", "https://pypi.org/simple/"],
                       capture_output=True, check=False)
    return time.perf_counter() - start


def _load() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=10, help="names for pip (slow)")
    parser.add_argument("--repeat", type=int, default=3, help="cold/warm/offline samples")
    parser.add_argument("--compare", type=Path, default=None,
                        help="another ghostenv tree (its src/ is used), run interleaved")
    args = parser.parse_args()
    names = [n.strip() for n in TOP100.read_text().splitlines() if n.strip()]
    trees: dict[str, Path | None] = {"this": None}
    if args.compare is not None:
        trees["compare"] = args.compare
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"before: {_load()}")
    for run in range(args.repeat):
        for label, src in trees.items():
            with tempfile.TemporaryDirectory() as tmp:
                for mode, flags in (("cold", ()), ("warm", ()), ("offline", ("--offline",))):
                    wall, cpu, line = peek(Path(tmp), names, src, *flags)
                    samples.setdefault((label, mode), []).append((wall, cpu))
                    print(f"  [{run + 1}] {label:7s} {mode:7s} {wall:5.2f} s wall "
                          f"{cpu:5.2f} s cpu  ({line})")
    print(f"after : {_load()}")
    medians: dict[tuple[str, str], float] = {}
    for (label, mode), values in samples.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        medians[label, mode] = wall
        verdict = ""
        if mode in TARGETS:
            verdict = "meets" if wall < TARGETS[mode] else "MISSES"
            verdict = f"  {verdict} the {TARGETS[mode]:.0f} s target"
        print(f"ghostenv peek {mode:7s} [{label}] median {wall:5.2f} s wall, {cpu:5.2f} s cpu"
              f"  (samples: {', '.join(f'{v[0]:.2f}' for v in values)}){verdict}")
    if args.compare is not None:
        for mode in ("cold", "warm", "offline"):
            print(f"  {mode}: compare/this = "
                  f"{medians['compare', mode] / medians['this', mode]:.2f}x")
    seq, seq_bytes = sequential_baseline(names)
    print(f"sequential httpx   : {seq:6.2f} s  ({len(names)} packages, {seq_bytes} bytes)")
    sample = names[: args.sample]
    pip = pip_versions(sample)
    per_pip = pip / len(sample)
    print(f"pip index versions : {pip:6.2f} s for {len(sample)} names "
          f"({per_pip:.2f} s each, ~{per_pip * len(names):.1f} s for {len(names)})")
    cold, warm = medians["this", "cold"], medians["this", "warm"]
    print(f"ratios: sequential/cold = {seq / cold:.1f}x, cold/warm = {cold / warm:.1f}x, "
          f"pip(extrapolated)/cold = {per_pip * len(names) / cold:.1f}x")
    print(f"end   : {_load()}")


if __name__ == "__main__":
    main()
