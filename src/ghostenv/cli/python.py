"""``ghostenv python list|find REQUEST [--json]``: the interpreters on this machine."""

from __future__ import annotations

import argparse
import json

from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="every interpreter found, in search order")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    find = sub.add_parser("find", help="the interpreter a request selects")
    find.add_argument("request", nargs="?", default=None,
                      help="3.12, 3.12.1, >=3.10, cpython@3.11, cpython3.12, pypy, or a path")
    find.add_argument("--json", action="store_true", help="machine-readable output")
    for child in (lst, find):
        child.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS)
        child.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.discover import find_interpreter, list_interpreters

    if args.action == "find":
        interp = find_interpreter(args.request, ctx.cache_dir)
        if args.json:
            ctx.echo(json.dumps(interp.to_dict(), indent=2))
        else:
            ctx.echo(str(interp.path))
        return 0
    rows = []
    for cand in list_interpreters(ctx.cache_dir):
        if cand.interpreter is None:
            ctx.debug(f"skipped {cand.path} ({cand.source}): {cand.skipped}")
            continue
        interp = cand.interpreter
        rows.append(interp)
        if not args.json:
            note = "" if interp.supported else "  (too old)"
            ctx.echo(f"{interp.key:<24} {interp.path}  [{cand.source}]{note}")
    if args.json:
        ctx.echo(json.dumps([i.to_dict() for i in rows], indent=2))
    return 0
