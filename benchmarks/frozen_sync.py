"""Fresh-environment ``sync --frozen`` start-up: ghostenv (this tree, optionally an older
revision) vs ``uv sync --frozen``, interleaved, plus where ghostenv's time goes.

For each workload of ``../shared/workloads`` the project is copied to a scratch
directory and locked with uv. Each contender fills its own cache once (not
timed); then every round runs each contender once, in a random order, into a
brand-new ``.venv`` (the removal of the previous one is not timed), so load from
other processes falls on all of them alike. Printed per contender: median and
minimum wall ms, median CPU ms of the child, and ratios to uv. ``--baseline REV``
adds ghostenv at an older commit (``git archive`` into the scratch directory),
with a cache of its own. Every ghostenv tree is byte-compiled first and run
without PYTHONDONTWRITEBYTECODE, as installed ghostenv runs. Finally
the fast path's phases (``GHOSTENV_TIMINGS=1``, set for every ghostenv run: one line
on stderr) are printed as medians over the rounds, and a ``python -c pass`` row shows
the interpreter's own start-up, the floor under any command written in Python.

How ghostenv is started: as users start it, by its console script -- the file pip
writes for ``[project.scripts] ghostenv = "ghostenv.entry:main"`` (shebang, ``import
sys``, ``from ghostenv.entry import main``; pip 26's template imports no ``re``). For
this tree that is the installed ``ghostenv`` next to this interpreter (the dev
environment's editable install: one path entry from a .pth file, no import hook)
when there is one; for ``--baseline`` (and otherwise) a copy of pip's template in the
scratch directory; each run with ``PYTHONPATH=<tree>/src`` so it imports that tree.
``python -m ghostenv`` costs ~4 ms more (runpy and importlib.util); ``--module``
times that instead. uv's command is the same either way.

    python benchmarks/frozen_sync.py [--runs 11] [--python 3.12] [--workloads web data]
                                     [--baseline 171d700] [--module]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKLOADS = REPO.parent / "shared" / "workloads"


def _env(src: Path | None, cache: Path, uv_cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "PYTHONPATH")}
    env.update(GHOSTENV_CACHE_DIR=str(cache), UV_CACHE_DIR=str(uv_cache),
               UV_LINK_MODE="hardlink")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall ms, child CPU ms, stderr) of one run into a fresh .venv."""
    shutil.rmtree(cwd / ".venv", ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu, proc.stderr


#: A row for the interpreter's own start-up (the floor under any Python command).
FLOOR = "python -c pass (start-up)"


def _tree(rev: str | None, scratch: Path) -> Path:
    """The ``src`` directory of this checkout, or of ``rev`` exported into ``scratch``."""
    if rev is None:
        src = REPO / "src"
    else:
        target = scratch / f"ghostenv-{rev}"
        if target.is_dir():  # exported for an earlier workload
            return target / "src"
        target.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
        src = target / "src"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(src / "ghostenv")], env=env,
                   check=False)
    return src


#: What pip (26) writes for a console script entry point (PipScriptMaker.script_template).
_SCRIPT = """#!{python}
import sys
from ghostenv.entry import main
if __name__ == '__main__':
    sys.argv[0] = sys.argv[0].removesuffix('.exe')
    sys.exit(main())
"""


def _launcher(rev: str | None, scratch: Path, module: bool) -> list[str]:
    """The command that starts ghostenv: its console script, or ``python -m ghostenv``."""
    if module:
        return [sys.executable, "-m", "ghostenv"]
    installed = Path(sys.executable).parent / "ghostenv"
    if rev is None and installed.is_file() and "ghostenv.entry" in installed.read_text():
        return [str(installed)]
    script = scratch / f"ghostenv-script-{rev or 'head'}"
    script.write_text(_SCRIPT.format(python=sys.executable))
    script.chmod(0o755)
    return [str(script)]


def bench(name: str, runs: int, python: str, baseline: str | None, scratch: Path, *,
          module: bool = False) -> None:
    from ghostenv.discover import find_interpreter

    project = scratch / name
    shutil.copytree(WORKLOADS / name, project)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    uv_cache = scratch / "uv-cache"
    base = str(find_interpreter(python, scratch / "probe-cache").base_executable)
    subprocess.run([uv, "lock", "-q", "--python", base], cwd=project, check=True,
                   env=_env(None, scratch / "cache", uv_cache))
    args = ["sync", "--frozen", "--no-dev", "--python", base]
    contenders: dict[str, tuple[list[str], dict[str, str]]] = {}
    trees = [("ghostenv (this tree)", None)] + ([(f"ghostenv {baseline}", baseline)]
                                               if baseline else [])
    for label, rev in trees:
        src = _tree(rev, scratch)
        cache = scratch / f"cache-{rev or 'head'}"
        contenders[label] = ([*_launcher(rev, scratch, module), *args],
                             {**_env(src, cache, uv_cache), "GHOSTENV_TIMINGS": "1"})
    contenders["uv sync --frozen"] = ([uv, "-q", *args], _env(None, scratch / "cache", uv_cache))
    contenders[FLOOR] = ([sys.executable, "-c", "pass"], _env(None, scratch / "cache", uv_cache))
    for cmd, env in contenders.values():  # fill every cache once
        _timed(cmd, project, env)
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in contenders}
    phases: dict[str, list[float]] = {}
    for _ in range(runs):
        order = list(contenders)
        random.shuffle(order)
        for label in order:
            cmd, env = contenders[label]
            wall, cpu, stderr = _timed(cmd, project, env)
            results[label].append((wall, cpu))
            if label == "ghostenv (this tree)":
                _phases(stderr, phases)
    ref_wall = statistics.median(w for w, _ in results["uv sync --frozen"])
    ref_cpu = statistics.median(c for _, c in results["uv sync --frozen"])
    print(f"\n{name}: fresh .venv, warm caches, {runs} interleaved rounds "
          f"(load average {os.getloadavg()[0]:.1f})")
    print(f"{'contender':30} {'wall ms':>8} {'min':>7} {'vs uv':>6} {'cpu ms':>8} {'vs uv':>6}")
    for label, rows in results.items():
        wall = statistics.median(w for w, _ in rows)
        cpu = statistics.median(c for _, c in rows)
        print(f"{label:30} {wall:8.1f} {min(w for w, _ in rows):7.1f} {wall / ref_wall:6.2f} "
              f"{cpu:8.1f} {cpu / ref_cpu:6.2f}")
    if not phases:
        print("phases: (fast path not taken)")
        return
    print(f"phases of this tree (median of {runs} runs): " + ", ".join(
        f"{phase} {statistics.median(values):.1f} ms" for phase, values in phases.items()))


def _phases(stderr: str, into: dict[str, list[float]]) -> None:
    """Collect ``timings: entry+gate 2.1 ms, read+select 8.8 ms, ...`` (GHOSTENV_TIMINGS=1)."""
    for line in stderr.splitlines():
        if line.startswith("timings: "):
            for item in line[len("timings: "):].split(", "):
                phase, _, value = item.rpartition(" ")[0].rpartition(" ")
                into.setdefault(phase, []).append(float(value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--workloads", nargs="+", default=["web", "data"])
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also time ghostenv at this git revision")
    parser.add_argument("--module", action="store_true",
                        help="start ghostenv as `python -m ghostenv`, not by its console script")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ghostenv-frozen-bench-") as tmp:
        for name in args.workloads:
            bench(name, args.runs, args.python, args.baseline, Path(tmp), module=args.module)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
