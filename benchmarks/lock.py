"""``ghostenv lock`` next to ``uv lock`` on the shared workloads, from the real PyPI, in one run.

For each workload (``../shared/workloads/{web,data,big}``), each tool gets its
own copy of the project and its own cache directory:

* cold: empty cache, no lock;
* warm: the cache of the cold run kept, the lock deleted (revalidation of
  every cached page is the cost here: uv does it one page after another);
* up to date: the lock just written, nothing changed (``lock`` must notice
  without resolving). Also timed: ``lock --check`` of the same, and for
  ghostenv the in-process cost of the answer (import + ``lock_is_current``),
  i.e. everything but the interpreter's own start.

Wall time of the whole process; "up to date" and ``--check`` are the median of
5 runs; with ``--repeat N`` every figure is the median over N rounds (cold runs
once per round, each with a fresh cache). ghostenv runs as its console script.
Both tools run with the same interpreter available and no uv configuration.

    python benchmarks/lock.py [--workloads web,data,big] [--repeat 3] [--uv PATH]
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

REPO = Path(__file__).resolve().parent.parent
WORKLOADS = REPO.parent / "shared" / "workloads"


def _run(cmd: Sequence[str], cwd: Path, env: dict[str, str], cache: Path | None = None) -> float:
    if cache is not None:
        env = {**env, "GHOSTENV_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                          check=False, timeout=1800)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


class Tool:
    def __init__(self, name: str, base: Path, uv: Path) -> None:
        self.name = name
        self.base = base
        self.uv = uv
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "GHOSTENV_"))}

    def command(self, cache: Path, *extra: str) -> list[str]:
        if self.name == "ghostenv":
            # the console script, as users run it (``python -m`` adds runpy's imports)
            script = Path(sys.executable).parent / "ghostenv"
            launcher = [str(script)] if script.exists() else [sys.executable, "-m", "ghostenv"]
            # the cache comes from GHOSTENV_CACHE_DIR (see _run), as the entry point's
            # fast path reads it; a --cache-dir flag would send every run through argparse
            return [*launcher, "lock", *extra]
        return [str(self.uv), "lock", "--no-config", "--cache-dir", str(cache),
                "--python", sys.executable, *extra]

    def project(self, workload: str) -> Path:
        root = self.base / f"{self.name}-{workload}"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        shutil.copy(WORKLOADS / workload / "pyproject.toml", root / "pyproject.toml")
        return root


def bench(tool: Tool, workload: str, repeat: int) -> dict[str, float]:
    root = tool.project(workload)
    cold, warm, current, check, inproc = [], [], [], [], []
    for i in range(repeat):
        cache = tool.base / f"{tool.name}-{workload}-cache-{i}"
        shutil.rmtree(cache, ignore_errors=True)
        (root / "uv.lock").unlink(missing_ok=True)
        cold.append(_run(tool.command(cache), root, tool.env, cache))
        (root / "uv.lock").unlink()
        warm.append(_run(tool.command(cache), root, tool.env, cache))
        current.append(statistics.median(
            _run(tool.command(cache), root, tool.env, cache) for _ in range(5)))
        check.append(statistics.median(
            _run(tool.command(cache, "--check"), root, tool.env, cache) for _ in range(5)))
        if tool.name == "ghostenv":
            inproc.append(_fingerprint_ms(root, cache, tool.env))
        shutil.rmtree(cache, ignore_errors=True)
    out = {
        "cold": statistics.median(cold),
        "warm": statistics.median(warm),
        "current": statistics.median(current),
        "check": statistics.median(check),
    }
    if inproc:
        out["in-process"] = statistics.median(inproc)
    return out


def _fingerprint_ms(root: Path, cache: Path, env: dict[str, str]) -> float:
    """Seconds ``lock_is_current`` takes inside a process (import + check), best of 5."""
    code = (
        "import time; t = time.perf_counter();"
        "from ghostenv.lock.current import lock_is_current;"
        f"ok = lock_is_current({str(root)!r}, {str(cache)!r});"
        "print(ok, time.perf_counter() - t)"
    )
    best = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        if out[0] != "True":
            raise SystemExit(f"{root}: the fingerprint does not say current")
        best.append(float(out[1]))
    return min(best)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="web,data,big")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--uv", type=Path, default=Path(sys.executable).parent / "uv")
    args = parser.parse_args(argv)
    if not args.uv.exists():
        raise SystemExit(f"uv not found at {args.uv} (pass --uv)")
    base = Path(tempfile.mkdtemp(prefix="ghostenv-bench-lock-"))
    try:
        rows = []
        for workload in args.workloads.split(","):
            results = {}
            for name in ("uv", "ghostenv"):
                results[name] = bench(Tool(name, base, args.uv), workload, args.repeat)
                print(f"{workload:5} {name:8} " + "  ".join(
                    f"{k} {v * 1000:8.0f} ms" for k, v in results[name].items()), flush=True)
            rows.append((workload, results))
        print()
        print(f"{'workload':8} {'case':8} {'uv ms':>9} {'ghostenv ms':>12} {'ghostenv/uv':>12}")
        for workload, results in rows:
            for case in ("cold", "warm", "current", "check"):
                uv, ours = results["uv"][case], results["ghostenv"][case]
                print(f"{workload:8} {case:8} {uv * 1000:9.0f} {ours * 1000:12.0f} "
                      f"{ours / uv:11.2f}x")
            print(f"{workload:8} {'current, in-process (import + lock_is_current)':>46}: "
                  f"{results['ghostenv']['in-process'] * 1000:.1f} ms")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
