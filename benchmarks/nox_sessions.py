"""A real ``nox`` run of a session that syncs the ``web`` workload's lock: ghostenv's nox
backend vs nox's own ``uv`` backend, fresh environment every run, warm caches, interleaved.

Users rerun ``nox`` many times a day, and nox recreates each session's environment
unless ``-R``/``--reuse-venv``; so what a run costs is nox's start-up, making the
environment and filling it from the lock. Two noxfiles, one session each, same lock,
same interpreter (an absolute path, so neither backend searches):

- ghostenv: ``venv_backend="ghostenv"`` + ``ghostenv.nox.sync(session, groups=[...])``
  (the noxfile imports ``ghostenv.nox``: that import is part of what it costs);
- uv: ``venv_backend="uv"`` (nox runs ``uv venv``) + ``session.run_install("uv", "sync",
  "--frozen", "--inexact", "--no-install-project", "--no-default-groups", --group ...,
  env={"UV_PROJECT_ENVIRONMENT": <env>})``,
  the pattern nox's own documentation gives for uv projects. This is the fair peer:
  both read uv.lock directly and link from a warm cache, with no resolution.
  ``session.install`` of pinned requirements would make uv run ``uv pip install -r``
  (a resolution of the pins against the index cache) and need an export step
  first; ``--pip-row`` adds it, with the ghostenv backend's ``session.install -r pins``
  (``ghostenv install``) beside it.

Each contender's cache is filled (two untimed runs; the ghostenv session then until it
replays, at most five); the session's environment is removed before each run, then
``os.sync()`` and a 50 ms pause (not timed), so every row starts from the same state.
``--reuse`` times the other daily rerun instead: ``nox --reuse-venv=yes`` on the
environment the fill made (installs run: ghostenv's sync step finds its stamp current;
uv's ``uv sync`` finds nothing to do). Rounds run every contender once in a random
order. Printed: median and minimum wall ms and median CPU
ms of the whole ``nox`` process tree, ratios to the uv session, the load average, and
-- from the environment's ``.ghostenv/events.jsonl`` -- the median ms of the ghostenv
backend's own steps (``create`` of the venv, ``sync``); ``nox --version`` is the
floor under both (nox's own start-up, no session).

nox is started as users start it: its console script next to this interpreter.
uv is the one next to this interpreter. Children run without
``PYTHONDONTWRITEBYTECODE`` (this tree byte-compiled first), ``VIRTUAL_ENV``,
``GHOSTENV_REPLAY``, ``GHOSTENV_NOX_FAST`` or ``*_PROJECT_ENVIRONMENT`` from the outer
shell; each gets its own ``GHOSTENV_CACHE_DIR``/``UV_CACHE_DIR`` and
``UV_LINK_MODE=hardlink``.
``--no-replay`` adds a ghostenv row with ``GHOSTENV_REPLAY=0`` (the fast path without
its recipe), ``--general`` one with ``GHOSTENV_NOX_FAST=0`` (the general sync step,
:func:`ghostenv.integrate.steps.sync_step`, as before :mod:`ghostenv.nox.fresh`).

    python benchmarks/nox_sessions.py [--runs 11] [--python 3.12] [--groups test]
                                      [--workload web] [--pip-row] [--no-replay] [--general]
                                      [--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _common
from _common import dists, settle, table, timed

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORKLOADS = REPO.parent / "shared" / "workloads"
BIN = Path(sys.executable).parent

#: Also dropped from the children's environment (beyond ``_common.DROP``).
_DROP = ("FORCE_COLOR", "NOX_DEFAULT_VENV_BACKEND", "GHOSTENV_NOX_FAST")

GHOSTENV_NOXFILE = """import nox
import ghostenv.nox

@nox.session(venv_backend="ghostenv", python={python!r}, name="web")
def web(session):
    ghostenv.nox.sync(session, groups={groups!r})
"""

UV_NOXFILE = """import nox

@nox.session(venv_backend="uv", python={python!r}, name="web")
def web(session):
    session.run_install("uv", "sync", "--frozen", "--inexact", "--no-install-project",
                        "--no-default-groups",
                        *[arg for group in {groups!r} for arg in ("--group", group)],
                        "--python", session.virtualenv.location,
                        env={{"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}},
                        silent=True)
"""

PIP_NOXFILE = """import nox

@nox.session(venv_backend="uv", python={python!r}, name="web")
def web(session):
    session.install("-r", "pins.txt")
"""

GHOSTENV_PIP_NOXFILE = """import nox
import ghostenv.nox

@nox.session(venv_backend="ghostenv", python={python!r}, name="web")
def web(session):
    session.install("-r", "pins.txt")
"""

GHOSTENV = "nox: ghostenv backend + ghostenv.nox.sync"
GHOSTENV_PIP = "nox: ghostenv backend + session.install -r pins"
NO_REPLAY = "nox: ghostenv backend + sync (GHOSTENV_REPLAY=0)"
GENERAL = "nox: ghostenv backend + sync (GHOSTENV_NOX_FAST=0)"
UV = "nox: uv backend + uv sync --frozen"
PIP = "nox: uv backend + session.install -r pins"
FLOOR = "nox --version (start-up)"


def _env(**extra: str) -> dict[str, str]:
    return _common.child_env(drop=_DROP, **extra)


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """(wall ms, CPU ms of the process tree, stderr) of one command."""
    return timed(cmd, cwd, env)


def _fresh(project: Path) -> None:
    """Remove the project's ``.nox`` (the session environment), then let the filesystem
    settle: ``os.sync()`` and a 50 ms pause -- removing thousands of files keeps ext4
    busy for a while, which must not fall on whichever row runs next. Not timed."""
    shutil.rmtree(project / ".nox", ignore_errors=True)
    settle()


def _steps(env_dir: Path) -> dict[str, float]:
    """ms of the ghostenv backend's steps in this run (``create``, ``sync``), from its event log."""
    found: dict[str, float] = {}
    try:
        lines = (env_dir / ".ghostenv" / "events.jsonl").read_text("utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        event = json.loads(line)
        if event.get("event") in ("create", "sync") and "ms" in event:
            found[event["event"]] = float(event["ms"])
    return found


def bench(runs: int, python: str, groups: list[str], workload: str, scratch: Path, *,
          pip_row: bool, no_replay: bool, general: bool, reuse: bool = False) -> None:
    from ghostenv.discover import find_interpreter

    uv = str(BIN / "uv") if (BIN / "uv").exists() else "uv"
    nox = str(BIN / "nox") if (BIN / "nox").exists() else "nox"
    base = str(find_interpreter(python, scratch / "probe-cache").base_executable)
    caches = {"GHOSTENV_CACHE_DIR": str(scratch / "ghostenv-cache"),
              "UV_CACHE_DIR": str(scratch / "uv-cache"), "UV_LINK_MODE": "hardlink"}
    env = _env(**caches)
    contenders: dict[str, tuple[Path, dict[str, str]]] = {}
    rows = [(GHOSTENV, GHOSTENV_NOXFILE, {}), (UV, UV_NOXFILE, {})]
    if no_replay:
        rows.insert(1, (NO_REPLAY, GHOSTENV_NOXFILE, {"GHOSTENV_REPLAY": "0"}))
    if general:
        rows.insert(1, (GENERAL, GHOSTENV_NOXFILE, {"GHOSTENV_NOX_FAST": "0"}))
    if pip_row:
        rows.append((PIP, PIP_NOXFILE, {}))
        rows.append((GHOSTENV_PIP, GHOSTENV_PIP_NOXFILE, {}))
    for i, (label, template, extra) in enumerate(rows):
        project = scratch / f"project-{i}"
        shutil.copytree(WORKLOADS / workload, project)
        (project / "noxfile.py").write_text(template.format(python=base, groups=groups))
        timings = {"GHOSTENV_TIMINGS": "1"} if template is GHOSTENV_NOXFILE else {}
        contenders[label] = (project, {**env, **extra, **timings})  # timings: one stderr line
    first = next(iter(contenders.values()))[0]
    subprocess.run([uv, "lock", "-q", "--python", base], cwd=first, env=env, check=True)
    subprocess.run([uv, "export", "-q", "--frozen", "--no-hashes", "--no-emit-project",
                    "--no-dev", *[a for g in groups for a in ("--group", g)], "-o", "pins.txt"],
                   cwd=first, env=env, check=True)
    for project, _ in contenders.values():
        for name in ("uv.lock", "pins.txt"):
            if project != first:
                shutil.copy(first / name, project / name)
    session = [nox, "-f", "noxfile.py", "-s", "web", *(["--reuse-venv=yes"] if reuse else [])]
    commands = dict.fromkeys(contenders, session)
    commands[FLOOR] = [nox, "--version"]
    contenders[FLOOR] = (first, env)
    holds: dict[str, frozenset[str]] = {}
    # fill every cache (twice: the second run at a path is the one that records a recipe)
    for _ in range(2):
        for label, (project, child_env) in contenders.items():
            _run(commands[label], project, child_env)
            if label != FLOOR:
                holds[label] = dists(project / ".nox" / "web")
            if not reuse:
                shutil.rmtree(project / ".nox", ignore_errors=True)
    # the fast path replays only once a recipe exists: recorded by the second sync into a
    # path (the first registers it), and not for a lock written < 1 s before
    project, child_env = contenders[GHOSTENV]
    for _ in range(0 if reuse else 5):
        _fresh(project)
        if "timings: replay: " in _run(commands[GHOSTENV], project, child_env)[2]:
            break
    else:
        if not reuse:
            print("warning: the ghostenv session never replayed in its warm-up")
    if len(set(holds.values())) != 1:  # the rows must build the same environment
        raise SystemExit("the sessions' environments differ: " + "; ".join(
            f"{label}: {sorted(dists)}" for label, dists in holds.items()))
    results: dict[str, list[tuple[float, float]]] = {label: [] for label in contenders}
    steps: dict[str, dict[str, list[float]]] = {}
    phases: dict[str, dict[str, list[float]]] = {}
    for _ in range(runs):
        order = list(contenders)
        random.shuffle(order)
        for label in order:
            project, child_env = contenders[label]
            if not reuse:
                _fresh(project)
            wall, cpu, stderr = _run(commands[label], project, child_env)
            results[label].append((wall, cpu))
            for step, ms in ({} if label == FLOOR else _steps(project / ".nox" / "web")).items():
                steps.setdefault(label, {}).setdefault(step, []).append(ms)
            for line in stderr.splitlines():
                if line.startswith("timings: "):
                    _phases(line[len("timings: "):], phases.setdefault(label, {}))
    what = "reused (--reuse-venv=yes)" if reuse else "fresh"
    print(f"\n{workload}: `nox -s web` (groups {groups}, python {base}), {what} session "
          f"environment ({len(next(iter(holds.values())))} distributions in each), warm caches, "
          f"{runs} interleaved rounds "
          f"(load average {os.getloadavg()[0]:.1f})")
    table(results, UV)
    for label, seen in steps.items():
        print(f"steps, {label} (median): " + ", ".join(
            f"{step} {statistics.median(values):.1f} ms" for step, values in seen.items()))
    for label, seen in phases.items():
        replayed = len(seen.pop("(replayed)", []))
        print(f"fast path, {label} (replayed in {replayed} of {runs} runs; medians over the "
              "runs that had the phase): " + ", ".join(
                  f"{phase} {statistics.median(values):.1f} ms" for phase, values in seen.items()))


def _phases(line: str, into: dict[str, list[float]]) -> None:
    """``replay: recipe 2.4 ms, lock 0.0 ms, ...`` (GHOSTENV_TIMINGS=1) into ``into``."""
    if line.startswith("replay: "):
        line = line[len("replay: "):]
        into.setdefault("(replayed)", []).append(1.0)
    for item in line.split(", "):
        phase, _, value = item.rpartition(" ")[0].rpartition(" ")
        into.setdefault(phase, []).append(float(value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--groups", nargs="*", default=["test"],
                        help="dependency groups the session syncs (default: test)")
    parser.add_argument("--workload", default="web")
    parser.add_argument("--pip-row", action="store_true",
                        help="also session.install -r pins.txt on both backends")
    parser.add_argument("--no-replay", action="store_true",
                        help="also the ghostenv session with GHOSTENV_REPLAY=0")
    parser.add_argument("--reuse", action="store_true",
                        help="time `nox --reuse-venv=yes` on a kept environment instead")
    parser.add_argument("--general", action="store_true",
                        help="also the ghostenv session with GHOSTENV_NOX_FAST=0")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src" / "ghostenv")],
                   env=env, check=False)
    with tempfile.TemporaryDirectory(prefix="ghostenv-nox-bench-") as tmp:
        bench(args.runs, args.python, args.groups, args.workload, Path(tmp),
              pip_row=args.pip_row, no_replay=args.no_replay, general=args.general,
              reuse=args.reuse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
