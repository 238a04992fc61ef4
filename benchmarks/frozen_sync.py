"""Fresh-environment ``sync --frozen`` start-up: ghostenv (this tree, optionally an older
revision) vs ``uv sync --frozen``, interleaved, plus where ghostenv's time goes.

For each workload of ``../shared/workloads`` the project is copied to a scratch
directory and locked with uv. Each contender fills its own cache once (not
timed); then every round runs each contender once, in a random order, into a
brand-new environment (the removal of the previous one is not timed), so load from
other processes falls on all of them alike. Printed per contender: median and
minimum wall ms, median CPU ms of the child, and ratios to uv.

ghostenv keeps a recipe per environment path (the mkdir/link/write operations of its
last fresh sync there, replayed when the same inputs come back), so "the same sync
into a deleted ``.venv``" is its best case. This tree therefore has three rows:

- ``recipe hit``: into the project's ``.venv`` again (what a user's second fresh sync is);
- ``no recipe``: the same with ``GHOSTENV_REPLAY=0`` (the install engine's path);
- ``miss``: into a new path every round (``GHOSTENV_PROJECT_ENVIRONMENT``): a first-ever
  sync at a path (the engine path; a recipe is only recorded by the second sync at a
  path). ``--no-miss`` drops it.

Every timed run starts from the same state: the environment the previous run left
at that path (ghostenv's or uv's) is removed, then ``os.sync()`` and a 50 ms pause,
none of it timed -- removing thousands of files keeps ext4 busy for a while, and
that must not fall on whichever row runs next. Before timing, every row runs twice
untimed, and the hit row until it replays (at most five runs).

Every ghostenv row gets ``GHOSTENV_CACHE_DIR`` (its own), ``GHOSTENV_TIMINGS=1`` and
``GHOSTENV_REPLAY`` as its row says (an outer ``GHOSTENV_REPLAY``,
``GHOSTENV_PROJECT_ENVIRONMENT`` or ``UV_PROJECT_ENVIRONMENT`` is dropped so the rows
mean what they say); other ``GHOSTENV_*`` variables (e.g. ``GHOSTENV_LINK_MODE``) pass
through. uv runs with ``UV_LINK_MODE=hardlink`` and its own warm cache. ``--baseline REV``
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
                                     [--baseline 171d700] [--module] [--no-miss]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import child_env, dists, settle, table, timed

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKLOADS = REPO.parent / "shared" / "workloads"


def _env(src: Path | None, cache: Path, uv_cache: Path) -> dict[str, str]:
    env = child_env(drop=("PYTHONPATH",), GHOSTENV_CACHE_DIR=str(cache),
                    UV_CACHE_DIR=str(uv_cache), UV_LINK_MODE="hardlink")
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _timed(cmd: list[str], cwd: Path, env: dict[str, str], target: Path
           ) -> tuple[float, float, str]:
    """(wall ms, child CPU ms, stderr) of one run into ``target``, removed first and the
    filesystem settled (not timed)."""
    shutil.rmtree(target, ignore_errors=True)
    settle()
    return timed(cmd, cwd, env)


class Contender:
    """One row: its command and environment; ``fresh_path`` gives it a new env path per run."""

    def __init__(self, cmd: list[str], env: dict[str, str], project: Path, *,
                 fresh_path: bool = False, phases: bool = False) -> None:
        self.cmd, self.env, self.project = cmd, env, project
        self.fresh_path, self.phases = fresh_path, phases
        self.runs = 0
        self.target = project / ".venv"
        """Where the last run synced into."""

    def run(self) -> tuple[float, float, str]:
        env, target = self.env, self.project / ".venv"
        if self.fresh_path:
            # the previous path goes (not timed); the new one has never been synced into
            shutil.rmtree(self.project / f".venv-miss-{self.runs - 1}", ignore_errors=True)
            target = self.project / f".venv-miss-{self.runs}"
            env = {**env, "GHOSTENV_PROJECT_ENVIRONMENT": str(target)}
        self.runs += 1
        self.target = target
        return _timed(self.cmd, self.project, env, target)


#: A row for the interpreter's own start-up (the floor under any Python command).
FLOOR = "python -c pass (start-up)"
UV = "uv sync --frozen"
HIT = "ghostenv sync --frozen (recipe hit)"
NO_RECIPE = "ghostenv sync --frozen (no recipe: GHOSTENV_REPLAY=0)"
MISS = "ghostenv sync --frozen (miss: new env path each run)"


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
          module: bool = False, miss: bool = True) -> None:
    from ghostenv.discover import find_interpreter

    project = scratch / name
    shutil.copytree(WORKLOADS / name, project)
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or "uv"
    uv_cache = scratch / "uv-cache"
    base = str(find_interpreter(python, scratch / "probe-cache").base_executable)
    subprocess.run([uv, "lock", "-q", "--python", base], cwd=project, check=True,
                   env=_env(None, scratch / "cache", uv_cache))
    args = ["sync", "--frozen", "--no-dev", "--python", base]
    contenders: dict[str, Contender] = {}
    trees = [(None, "")] + ([(baseline, f" {baseline}")] if baseline else [])
    for rev, tag in trees:
        src = _tree(rev, scratch)
        cmd = [*_launcher(rev, scratch, module), *args]
        env = {**_env(src, scratch / f"cache-{rev or 'head'}", uv_cache), "GHOSTENV_TIMINGS": "1"}
        if rev is not None:  # an older tree: one row, as it behaves by default
            contenders[f"ghostenv{tag}"] = Contender(cmd, env, project)
            continue
        contenders[HIT] = Contender(cmd, env, project, phases=True)
        contenders[NO_RECIPE] = Contender(cmd, {**env, "GHOSTENV_REPLAY": "0"}, project,
                                          phases=True)
        if miss:
            contenders[MISS] = Contender(cmd, env, project, fresh_path=True, phases=True)
    contenders[UV] = Contender([uv, "-q", *args], _env(None, scratch / "cache", uv_cache),
                               project)
    contenders[FLOOR] = Contender([sys.executable, "-c", "pass"],
                                  _env(None, scratch / "cache", uv_cache), project)
    holds: dict[str, frozenset[str]] = {}
    # fill every cache and the hit row's recipe: twice, as a recipe is not recorded for a
    # lock written less than a second before (uv lock just wrote it)
    for _ in range(2):
        for label, contender in contenders.items():
            contender.run()
            if label != FLOOR:
                holds[label] = dists(contender.target)
    # the hit row replays only once a recipe exists: ghostenv records one at the second sync
    # into a path (the first registers it), and not for a lock written < 1 s before
    for _ in range(5):
        if "timings: replay: " in contenders[HIT].run()[2]:
            break
    else:
        print(f"{name}: warning: the recipe-hit row never replayed in its warm-up")
    if len(set(holds.values())) != 1:  # every row must build the same environment
        raise SystemExit(f"{name}: the environments differ: " + "; ".join(
            f"{label}: {sorted(dists)}" for label, dists in holds.items()))
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in contenders}
    phases: dict[str, dict[str, list[float]]] = {}
    notes: dict[str, list[str]] = {}
    for _ in range(runs):
        order = list(contenders)
        random.shuffle(order)
        for label in order:
            wall, cpu, stderr = contenders[label].run()
            results[label].append((wall, cpu))
            if contenders[label].phases:
                _phases(stderr, phases.setdefault(label, {}), notes.setdefault(label, []))
    print(f"\n{name}: fresh environment ({len(next(iter(holds.values())))} distributions in "
          f"each), warm caches, {runs} interleaved rounds "
          f"(load average {os.getloadavg()[0]:.1f})")
    table(results, UV)
    for label in (label for label in contenders if contenders[label].phases):
        seen = phases.get(label, {})
        if not seen:
            print(f"phases, {label}: (fast path not taken)")
            continue
        for kind in ("replay", "engine"):
            runs_of = seen.get(f"{kind}:runs", [])
            if not runs_of:
                continue
            items = {phase[len(kind) + 1:]: values for phase, values in seen.items()
                     if phase.startswith(f"{kind}:") and phase != f"{kind}:runs"}
            print(f"phases, {label}, {kind} ({len(runs_of)} of {runs} runs, medians): "
                  + ", ".join(f"{phase} {statistics.median(values):.1f} ms"
                              for phase, values in items.items()))
        for why in sorted(set(notes.get(label, []))):
            print(f"  {label}: {why} ({notes[label].count(why)}x)")


def _phases(stderr: str, into: dict[str, list[float]], notes: list[str] | None = None) -> None:
    """Collect ``timings: entry+gate 2.1 ms, ...`` / ``timings: replay: recipe 1.7 ms, ...``
    (GHOSTENV_TIMINGS=1) under ``engine:<phase>`` / ``replay:<phase>``; one run that printed
    both (a replay that gave up, then the engine) counts as an engine run. Other lines
    the timings mode prints (``no recipe: ...``) go to ``notes``."""
    lines = [line[len("timings: "):] for line in stderr.splitlines()
             if line.startswith("timings: ")]
    if notes is not None:
        notes += [line for line in stderr.splitlines() if line.startswith("no recipe: ")]
    if not lines:
        return
    last = lines[-1]
    kind = "replay" if last.startswith("replay: ") else "engine"
    into.setdefault(f"{kind}:runs", []).append(1.0)
    for item in last.removeprefix("replay: ").split(", "):
        phase, _, value = item.rpartition(" ")[0].rpartition(" ")
        into.setdefault(f"{kind}:{phase}", []).append(float(value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--workloads", nargs="+", default=["web", "data"])
    parser.add_argument("--baseline", default=None, metavar="REV",
                        help="also time ghostenv at this git revision")
    parser.add_argument("--module", action="store_true",
                        help="start ghostenv as `python -m ghostenv`, not by its console script")
    parser.add_argument("--no-miss", action="store_true",
                        help="leave out the row that syncs into a new env path every run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ghostenv-frozen-bench-") as tmp:
        for name in args.workloads:
            bench(name, args.runs, args.python, args.baseline, Path(tmp), module=args.module,
                  miss=not args.no_miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
