"""Benchmark ``ghostenv peek`` on the 100 names of ../shared/workloads/top100.txt (real PyPI).

Runs, each timed end to end:
  1. ghostenv peek, cold cache (fresh temp cache dir)
  2. ghostenv peek, warm cache (same dir: pages revalidated, metadata from the cache),
     then the same with --offline (no request at all: the floor set by parsing)
  3. a sequential httpx baseline: page then newest wheel's .metadata, one package at a time
  4. ``pip index versions`` for a sample of names (pip fetches only the page), one by one
and prints the ratios. Usage: ``python benchmarks/peek.py [--sample N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOP100 = REPO.parent / "shared" / "workloads" / "top100.txt"


def peek(cache: Path, names: list[str], *flags: str) -> tuple[float, str]:
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "ghostenv", *flags, "peek", *names],
                          capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, proc.stderr.strip().splitlines()[-1]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=10, help="names for pip (slow)")
    args = parser.parse_args()
    names = [n.strip() for n in TOP100.read_text().splitlines() if n.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        cold, cold_line = peek(Path(tmp), names)
        warm, warm_line = peek(Path(tmp), names)
        offline, offline_line = peek(Path(tmp), names, "--offline")
    print(f"ghostenv peek cold : {cold:6.2f} s  ({cold_line})")
    print(f"ghostenv peek warm : {warm:6.2f} s  ({warm_line})")
    print(f"ghostenv --offline : {offline:6.2f} s  ({offline_line})")
    seq, seq_bytes = sequential_baseline(names)
    print(f"sequential httpx   : {seq:6.2f} s  ({len(names)} packages, {seq_bytes} bytes)")
    sample = names[: args.sample]
    pip = pip_versions(sample)
    per_pip = pip / len(sample)
    print(f"pip index versions : {pip:6.2f} s for {len(sample)} names "
          f"({per_pip:.2f} s each, ~{per_pip * len(names):.1f} s for {len(names)})")
    print(f"ratios: sequential/cold = {seq / cold:.1f}x, cold/warm = {cold / warm:.1f}x, "
          f"pip(extrapolated)/cold = {per_pip * len(names) / cold:.1f}x")


if __name__ == "__main__":
    main()
