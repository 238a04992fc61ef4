"""``ghostenv peek``: newest version, requires-python and dependencies of packages, at once.

Every package's page and metadata are fetched concurrently through one
:class:`ghostenv.index.IndexClient`; a package that fails is reported by name and the
others still print. Stdlib-only at import time (the CLI imports subcommands lazily anyway).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ghostenv.errors import UsageError

if TYPE_CHECKING:
    from ghostenv.cli.output import Context
    from ghostenv.index import DistFile, ProjectPage
    from ghostenv.index.client import IndexClient


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="package names")
    parser.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                        help="read names from a requirements file")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--index-url", default=os.environ.get("GHOSTENV_INDEX_URL"),
                        help="simple index (default: $GHOSTENV_INDEX_URL or PyPI)")
    parser.add_argument("--extra-index-url", action="append",
                        default=os.environ.get("GHOSTENV_EXTRA_INDEX_URL", "").split(),
                        help="more indexes; the first index that has a package wins")
    parser.add_argument("--find-links", action="append", default=[],
                        help="a directory or HTML page of files")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--refresh", action="store_true", help="revalidate nothing, refetch all")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the cache")


def _names_from(path: Path) -> list[str]:
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            names.append(Requirement(line).name)
        except InvalidRequirement as exc:
            raise UsageError(f"{path}: cannot read requirement {line!r}: {exc}") from None
    return names


def _version_of(filename: str) -> str | None:
    """The version field of a wheel or sdist filename, cheaply: peek only needs to order
    versions, and parsing every wheel's tags on botocore's 5,000 files costs ~0.1 s."""
    if filename.endswith(".whl"):
        parts = filename.split("-", 2)
        return parts[1] if len(parts) == 3 and parts[2].count("-") >= 2 else None
    for ext in (".tar.gz", ".zip", ".tar.bz2", ".tgz"):
        if filename.endswith(ext):
            return filename[: -len(ext)].rpartition("-")[2] or None
    return None


def _newest(page: ProjectPage) -> tuple[str, list[DistFile]] | None:
    """The newest final (else any) version that is not yanked, and its files, wheels first."""
    from packaging.version import InvalidVersion, Version

    parsed: dict[str, Version | None] = {}
    by_version: dict[Version, list[DistFile]] = {}
    for f in page.files:
        if f.yanked:
            continue
        text = _version_of(f.filename)
        if text is None:
            continue
        if text not in parsed:
            try:
                parsed[text] = Version(text)
            except InvalidVersion:
                parsed[text] = None
        version = parsed[text]
        if version is not None:
            by_version.setdefault(version, []).append(f)
    if not by_version:
        return None
    finals = [v for v in by_version if not v.is_prerelease]
    best = max(finals or by_version)
    files = sorted(by_version[best], key=lambda f: not f.is_wheel)
    return str(best), files


#: Names what _pick_newest computes (bump it when its rules change: cached picks are keyed by it).
PICK_KEY = "peek-newest-v1"

_PLAIN_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_PLAIN_PREFIX = re.compile(r"\d+(?:\.\d+)*\.?")


def _release(text: str) -> tuple[int, ...]:
    """``1.26.0`` -> (1, 26): a plain release as PEP 440 orders it (trailing zeros off)."""
    release = tuple(map(int, text.split(".")))
    while len(release) > 1 and release[-1] == 0:
        release = release[:-1]
    return release


def _newest_texts(texts: set[str]) -> set[str]:
    """The spellings (``2.0``, ``2.0.0``) of the newest final, else newest, version.

    Most texts are plain releases (``1.26.3``): those are ordered as tuples of ints,
    and only the rest (pre/post/dev/local/epoch) are parsed as PEP 440 versions, and
    not even those whose plain release prefix is already below the newest plain one.
    """
    from packaging.version import InvalidVersion, Version

    plain = {t: _release(t) for t in texts if _PLAIN_RELEASE.fullmatch(t)}
    best = max(plain, key=plain.__getitem__) if plain else None
    floor = plain[best] if best is not None else None
    parsed: dict[Version, set[str]] = {}
    for text in texts:
        if text in plain and text != best:
            continue
        if floor is not None and text != best and "!" not in text:
            prefix = _PLAIN_PREFIX.match(text)
            if prefix and _release(prefix.group().rstrip(".")) < floor:
                continue  # its release is lower: not newer than `best`, whatever follows
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        parsed.setdefault(version, set()).add(text)
    if best is not None:
        # equal spellings of the newest plain release ("2.0" and "2.0.0") share its files
        top = Version(best)
        parsed[top].update(t for t, release in plain.items() if release == floor)
    if not parsed:
        return set()
    finals = [v for v in parsed if not v.is_prerelease]
    return parsed[max(finals or parsed)]


def _pick_newest(named: list[tuple[str, bool]]) -> set[str]:
    """Filenames of the newest final (else any) version that is not yanked.

    Given to :meth:`IndexClient.project` as ``pick``: the page is scanned for names
    only and just these files are parsed (botocore lists 5,000 files, peek needs ~2).
    The top 100 projects list 140,000 files but only ~20,000 distinct version texts:
    the versions are ordered as a set of texts, and only the names holding a chosen
    text are read again.
    """
    names = [f for f, yanked in named if not yanked]
    # _version_of, inlined for wheels (most names): a wheel name with four dashes or
    # more has a version between its first two; the files of one version share that
    # prefix, so it is cut once per file and split once per version
    wheels = [f for f in names if f.endswith(".whl")]
    prefixes = {f[:f.find("-", f.find("-") + 1)] for f in wheels if f.count("-") >= 4}
    texts = {p[p.find("-") + 1:] for p in prefixes}
    texts.update(_version_of(f) or "" for f in names if not f.endswith(".whl"))
    texts.discard("")  # not a version (and never a valid one)
    chosen = _newest_texts(texts)
    holding = {f for text in chosen for f in [f for f in names if text in f]}
    return {f for f in holding if _version_of(f) in chosen}


_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")


def _fields(data: bytes) -> tuple[str | None, list[str]]:
    """Requires-Python and Requires-Dist, read leniently: peek shows what the file says even
    when strict validation would refuse it (e.g. License-File under Metadata-Version 2.1).

    What :func:`packaging.metadata.parse_email` would give, without the email package
    (its import and parser took ~0.1 s of a top-100 peek): a header block that is plain
    (``\n`` or ``\r\n`` line ends, these two fields ASCII and not folded; other fields
    may hold UTF-8 or span lines, as author names and licenses do) is read line by line; any
    other goes to :func:`_fields_email`. Bytes are read as the email parser reads them
    (ASCII, undecodable bytes kept as surrogates), so the lines split the same way.
    """
    text = data.replace(b"\r\n", b"\n")  # the email parser ends lines at CRLF too
    end = text.find(b"\n\n")
    head = text if end < 0 else text[:end]
    if b"\r" in head:  # a lone CR also ends a line there
        return _fields_email(data)
    requires_python: list[str] = []
    deps: list[str] = []
    ours = ("requires-dist", "requires-python")
    lowered = ""
    for line in head.decode("ascii", "surrogateescape").split("\n"):
        if line[:1] in (" ", "\t"):  # folded: more of the field above
            if not lowered or lowered in ours:
                return _fields_email(data)
            continue  # (a License text, say)
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            if (colon and not name) or line.startswith("From "):
                return _fields_email(data)  # an empty name, an envelope: the parser's
            break  # not a header: the email parser ends the header block here
        lowered = name.lower()
        if lowered in ours:
            if not value.isascii():  # the email package decodes these: let it
                return _fields_email(data)
            (deps if lowered == "requires-dist" else requires_python).append(
                value.lstrip(" \t"))
    # a field given twice is not one value: parse_email leaves it unparsed
    return (requires_python[0] if len(requires_python) == 1 else None), deps


def _fields_email(data: bytes) -> tuple[str | None, list[str]]:
    """:func:`_fields` for any metadata, by the email parser."""
    from packaging.metadata import parse_email

    raw, _unparsed = parse_email(data)
    return raw.get("requires_python"), list(raw.get("requires_dist", []))


async def _peek_one(client: IndexClient, name: str) -> dict[str, Any]:
    from ghostenv.errors import GhostenvError

    try:
        page = await client.project(name, pick=_pick_newest, pick_key=PICK_KEY)
        newest = _newest(page)
        if newest is None:
            return {"name": name, "error": "no installable files"}
        version, files = newest
        error: GhostenvError | None = None
        for f in files:
            try:
                data = await client.metadata_bytes(f)
            except GhostenvError as exc:
                error = exc
                continue
            requires_python, deps = _fields(data)
            return {"name": page.name, "version": version,
                    "requires_python": requires_python, "dependencies": deps}
        return {"name": name, "version": version, "error": str(error)}
    except GhostenvError as exc:
        return {"name": name, "error": str(exc)}


async def _peek_all(client: IndexClient, names: list[str], progress: bool) -> list[dict[str, Any]]:
    done = 0

    async def one(name: str) -> dict[str, Any]:
        nonlocal done
        result = await _peek_one(client, name)
        done += 1
        if progress:
            sys.stderr.write(f"\rpeeking {done}/{len(names)}")
            sys.stderr.flush()
        return result

    results = await asyncio.gather(*(one(n) for n in names))
    if progress:
        sys.stderr.write("\r\033[K")
    return list(results)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.index.client import PYPI, IndexClient

    names = list(args.names)
    for req in args.requirement:
        names.extend(_names_from(Path(req)))
    if not names:
        raise UsageError("nothing to peek", hint="give package names or `-r requirements.txt`")
    start = time.perf_counter()
    client = IndexClient(
        args.index_url or PYPI, extra_index_urls=tuple(args.extra_index_url),
        find_links=tuple(args.find_links), cache_dir=None if args.no_cache else ctx.cache_dir,
        concurrency=args.concurrency, offline=ctx.offline, refresh=args.refresh,
        prefer_html=True,  # peek needs no size/upload-time: the smaller dialect
    )

    async def main() -> list[dict[str, Any]]:
        async with client:
            progress = ctx.stderr.isatty() and not ctx.quiet and not args.json
            return await _peek_all(client, names, progress)

    results = asyncio.run(main())
    elapsed = time.perf_counter() - start
    stats = client.stats
    failed = [r for r in results if "error" in r]
    if args.json:
        ctx.echo(json.dumps({"packages": results, "summary": {
            "packages": len(results), "failed": len(failed), "requests": stats.requests,
            "bytes": stats.bytes, "cache_hits": stats.cache_hits,
            "revalidated": stats.revalidated, "seconds": round(elapsed, 3)}}, indent=2))
    else:
        for r in results:
            if "error" in r:
                ctx.error(f"{r['name']}: {r['error']}")
                continue
            deps = ", ".join(r["dependencies"]) or "(none)"
            ctx.echo(f"{r['name']} {r['version']}  requires-python: "
                     f"{r['requires_python'] or 'any'}  dependencies: {deps}")
        if not ctx.quiet:
            ctx.info(f"{len(results)} packages ({len(failed)} failed), {stats.requests} requests, "
                     f"{stats.bytes} bytes, {stats.cache_hits} cache hits, "
                     f"{stats.revalidated} revalidated, {elapsed:.2f} s")
    return 1 if failed else 0
