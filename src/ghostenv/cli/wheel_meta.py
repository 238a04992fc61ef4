"""``ghostenv wheel-meta``: show a wheel's core metadata without reading the wheel.

A local path is read with a handful of positioned reads; an ``http(s)://`` URL
uses PEP 658 or HTTP Range requests (see :mod:`ghostenv.wheel.remote`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("wheel", metavar="WHEEL_PATH_OR_URL", help="a .whl file or its URL")
    parser.add_argument("--json", action="store_true", help="print a stable JSON document")
    parser.add_argument("--pep658", action="store_true",
                        help="try the PEP 658 <url>.metadata file first (URLs only)")


def _remote(url: str, pep658: bool) -> tuple[bytes, dict[str, object]]:
    import asyncio

    import httpx

    from ghostenv.wheel.remote import fetch_wheel_metadata

    async def go() -> tuple[bytes, dict[str, object]]:
        async with httpx.AsyncClient(http2=True, timeout=60.0) as client:
            data, stats = await fetch_wheel_metadata(client, url, metadata_available=pep658)
        return data, {"requests": stats.requests, "bytes_transferred": stats.bytes,
                      "size": stats.file_size, "source": stats.source}

    return asyncio.run(go())


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.wheel import read_local_metadata
    from ghostenv.wheel.metadata import parse_metadata

    target: str = args.wheel
    started = time.perf_counter()
    remote = target.startswith(("http://", "https://"))
    if remote:
        data, io = _remote(target, args.pep658)
        name = target.rsplit("/", 1)[-1]
    else:
        data, stats = read_local_metadata(target)
        name = os.path.basename(target)
        io = {"reads": stats.reads, "bytes_read": stats.bytes_read,
              "size": os.path.getsize(target)}
    io["seconds"] = round(time.perf_counter() - started, 6)
    meta = parse_metadata(data, source=f"{name}: METADATA")
    doc: dict[str, object] = {"file": name, "size": io["size"], **meta.as_dict()}
    if args.json:
        if ctx.verbosity:
            doc["io"] = io
        ctx.echo(json.dumps(doc, indent=2, sort_keys=True))
        return 0
    ctx.echo(f"File: {name} ({io['size']} bytes)")
    ctx.echo(f"Name: {meta.name}")
    ctx.echo(f"Version: {meta.version}")
    ctx.echo(f"Requires-Python: {meta.requires_python or '(any)'}")
    ctx.echo("Requires-Dist:" + ("" if meta.requires_dist else " (none)"))
    for req in meta.requires_dist:
        ctx.echo(f"  {req}")
    ctx.echo("Provides-Extra: " + (", ".join(meta.provides_extra) or "(none)"))
    if ctx.verbosity:
        if remote:
            ctx.echo(f"Requests: {io['requests']} ({io['source']}), "
                     f"bytes transferred: {io['bytes_transferred']}")
        else:
            ctx.echo(f"Reads/seeks: {io['reads']}, bytes read: {io['bytes_read']}")
    return 0
