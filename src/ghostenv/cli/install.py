"""``ghostenv install REQ... [-r FILE] [-e PATH] [-c FILE] [--venv PATH]``: pip install, by store.

Resolves for the environment's own interpreter (its markers and wheel tags),
keeps what is installed and still satisfies, and links the rest from the
store. The environment is ``--venv``, else ``$VIRTUAL_ENV``, else ``./.venv``;
it is created (with ``--python``) when it does not exist. Index options fall
back to ``GHOSTENV_INDEX_URL`` / ``GHOSTENV_EXTRA_INDEX_URL`` /
``GHOSTENV_FIND_LINKS`` (space separated), then ``UV_INDEX_URL``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ghostenv install`` (pip's spelling where pip has one)."""
    parser.add_argument("requirements", nargs="*", metavar="REQ",
                        help="PEP 508 requirements, or paths to wheels, sdists or projects")
    parser.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                        help="install from a requirements file (repeatable)")
    parser.add_argument("-e", "--editable", action="append", default=[], metavar="PATH",
                        help="install a project directory in editable mode (repeatable)")
    parser.add_argument("-c", "--constraint", action="append", default=[], metavar="FILE",
                        help="constrain versions with a requirements-style file (repeatable)")
    parser.add_argument("--venv", type=Path, default=None, metavar="PATH",
                        help="target environment (default: $VIRTUAL_ENV, else .venv)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter for a new environment: 3.12, >=3.10, or a path")
    parser.add_argument("-i", "--index-url", default=None, help="simple index base URL")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL")
    parser.add_argument("-f", "--find-links", action="append", default=[], metavar="DIR|URL")
    parser.add_argument("--reinstall", "--force-reinstall", action="store_true",
                        help="reinstall every resolved package even when unchanged")
    parser.add_argument("-U", "--upgrade", action="store_true",
                        help="prefer the newest versions over the installed ones")
    parser.add_argument("--no-deps", action="store_true", help="install only what was named")
    parser.add_argument("--exact", action="store_true",
                        help="also remove what the resolution does not list (like `pip-sync`)")
    parser.add_argument("--link-mode", choices=("clone", "hardlink", "copy", "symlink"),
                        default=None, help="how files get from the store into the environment")
    parser.add_argument("--compile-bytecode", action="store_true",
                        help="byte-compile the installed modules")
    parser.add_argument("--refresh", action="store_true", help="revalidate cached index pages")


def _env_list(name: str) -> list[str]:
    return os.environ.get(name, "").split()


def _target_env(args: argparse.Namespace) -> Path:
    if args.venv is not None:
        return Path(args.venv)
    active = os.environ.get("VIRTUAL_ENV")
    return Path(active) if active else Path(".venv")


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Resolve, plan, apply; one summary line on stderr."""
    from ghostenv.discover import find_interpreter
    from ghostenv.errors import UsageError
    from ghostenv.materialize.venv import create_venv, layout_for
    from ghostenv.resolve.index_source import DEFAULT_INDEX, IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.install import install_requirements, read_requirements_file

    started = time.perf_counter()
    requirements = list(args.requirements)
    editables = list(args.editable)
    constraint_files = list(args.constraint)
    for name in args.requirement:
        reqs, edits, cons = read_requirements_file(Path(name))
        requirements += reqs
        editables += edits
        constraint_files += cons
    constraints: list[str] = []
    for name in constraint_files:
        reqs, _edits, _cons = read_requirements_file(Path(name))
        constraints += reqs
    if not requirements and not editables:
        raise UsageError("nothing to install", hint="pass REQ arguments, -r FILE or -e PATH")

    env = _target_env(args).absolute()
    python = env / "bin" / "python"
    if (env / "pyvenv.cfg").is_file() and python.exists():
        interpreter = find_interpreter(str(python), ctx.cache_dir)
        if args.python is not None:
            ctx.debug(f"--python ignored: {env} exists")
        layout = layout_for(env, interpreter)
    else:
        interpreter = find_interpreter(args.python, ctx.cache_dir)
        layout = create_venv(env, interpreter)
        ctx.debug(f"created {env} with {interpreter.key}")
    index_url = (args.index_url or os.environ.get("GHOSTENV_INDEX_URL")
                 or os.environ.get("UV_INDEX_URL") or DEFAULT_INDEX)
    settings = IndexSettings(
        index_url=index_url,
        extra_index_urls=tuple(args.extra_index_url or _env_list("GHOSTENV_EXTRA_INDEX_URL")),
        find_links=tuple(args.find_links or _env_list("GHOSTENV_FIND_LINKS")),
        cache_dir=ctx.cache_dir, offline=ctx.offline, refresh=args.refresh)
    outcome = install_requirements(
        layout, requirements, interpreter=interpreter, settings=settings,
        store=Store(ctx.cache_dir / "store"), editables=editables, constraints=constraints,
        reinstall=args.reinstall, no_deps=args.no_deps, upgrade=args.upgrade,
        link_mode=args.link_mode, compile_bytecode=args.compile_bytecode, exact=args.exact,
        log=lambda text: ctx.debug(text, 2))
    report = outcome.report
    plan = outcome.plan
    assert report is not None
    assert plan is not None
    for line in plan.describe():
        ctx.debug(f" {line}")
    for text in report.fallbacks:
        ctx.warn(text)
    if not ctx.quiet:
        count = len(report.installed)
        noun = "package" if count == 1 else "packages"
        total = (time.perf_counter() - started) * 1000
        if count:
            line = f"Installed {count} {noun} in {report.install_ms:.0f}ms"
            extra = []
            if report.downloaded:
                extra.append(f"downloaded {report.downloaded} in {report.download_ms:.0f}ms")
            if report.removed:
                extra.append(f"removed {len(report.removed)}")
            if extra:
                line += f" ({', '.join(extra)})"
        else:
            noun = "package" if report.unchanged == 1 else "packages"
            line = f"Audited {report.unchanged} {noun}"
        sys.stderr.write(f"{line}; {total:.0f}ms in all\n" if ctx.verbosity else line + "\n")
    return 0
