"""``ghostenv venv [PATH] [--python REQUEST] [--clear]``: write a virtual environment."""

from __future__ import annotations

import argparse
import sys

from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=".venv",
                        help="where to create it (default: .venv)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter: 3.12, >=3.10, cpython@3.11, pypy, or a path")
    parser.add_argument("--clear", action="store_true", help="remove the directory first")
    parser.add_argument("--prompt", default=None, help="prompt prefix (default: directory name)")
    parser.add_argument("--system-site-packages", action="store_true",
                        help="let the environment see the base interpreter's site-packages")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.discover import find_interpreter
    from ghostenv.materialize.venv import create_venv

    interp = find_interpreter(args.python, ctx.cache_dir)
    ctx.debug(f"using {interp.key} at {interp.path} (base {interp.base_executable})")
    command = " ".join(["ghostenv", *sys.argv[1:]]) if sys.argv[1:] else None
    layout = create_venv(args.path, interp, clear=args.clear, prompt=args.prompt,
                         system_site_packages=args.system_site_packages, command=command)
    ctx.info(f"Created {layout.root} with {interp.key} ({interp.base_executable})")
    ctx.info(f"Activate with: source {layout.scripts / 'activate'}")
    return 0
