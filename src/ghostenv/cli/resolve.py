"""``ghostenv resolve``: resolve requirements against an index and print the pins.

Metadata comes from wheels only (PEP 658 files, else HTTP Range reads of the
wheel); versions that ship only an sdist are reported as unusable until
ghostenv can build them. Exit 1 with the numbered explanation when no set of
versions satisfies the requirements.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.version import Version

    from ghostenv.cli.output import Context
    from ghostenv.index import DistFile, ProjectPage
    from ghostenv.resolve.python import Candidate, Metadata, Target

DEFAULT_INDEX = "https://pypi.org/simple/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("requirements", nargs="*", metavar="REQ", help="PEP 508 requirements")
    parser.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        help="read requirements from a requirements.txt (repeatable)",
    )
    parser.add_argument(
        "--python-version",
        metavar="X.Y[.Z]",
        help="target Python version (default: the running interpreter)",
    )
    parser.add_argument(
        "--python-platform",
        default="x86_64-manylinux_2_39",
        help="target platform: x86_64-manylinux_2_N, x86_64-manylinux2014, "
        "or linux (Linux x86_64 targets only for now)",
    )
    parser.add_argument("--index-url", default=DEFAULT_INDEX, help="simple index base URL")
    parser.add_argument(
        "--prerelease",
        default="if-necessary-or-explicit",
        choices=["if-necessary-or-explicit", "allow", "disallow"],
    )
    parser.add_argument(
        "--resolution", default="highest", choices=["highest", "lowest", "lowest-direct"]
    )
    parser.add_argument("--only-binary", action="append", default=[], metavar="NAME|:all:")
    parser.add_argument("--no-binary", action="append", default=[], metavar="NAME|:all:")
    parser.add_argument("--json", action="store_true", help="JSON with the chosen file per package")


def _read_requirements(path: str) -> list[str]:
    from ghostenv.errors import UsageError

    try:
        text = open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"{path}: cannot read requirements ({exc.strerror})") from exc
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise UsageError(
                f"{path}: option lines are not supported: {line!r}",
                hint="pass index options on the command line",
            )
        lines.append(line)
    return lines


def _platforms(value: str) -> tuple[str, ...]:
    from ghostenv.errors import UsageError

    if value == "linux":
        value = "x86_64-manylinux_2_39"
    arch, _, tag = value.partition("-")
    if arch != "x86_64" or not tag.startswith("manylinux"):
        raise UsageError(
            f"--python-platform {value}: unsupported platform",
            hint="use x86_64-manylinux_2_N or x86_64-manylinux2014",
        )
    top = 17 if tag == "manylinux2014" else int(tag.rsplit("_", 1)[-1])
    return (
        *(f"manylinux_2_{m}_x86_64" for m in range(top, 4, -1)),
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    )


def _names(values: list[str]) -> frozenset[str]:
    from packaging.utils import canonicalize_name

    out: set[str] = set()
    for value in values:
        out.update(":all:" if v == ":all:" else canonicalize_name(v) for v in value.split(","))
    return frozenset(out)


class IndexSource:
    """A synchronous :class:`ghostenv.resolve.python.Source` over a simple index.

    One event loop and one HTTP/2 client for the whole resolution; pages and
    metadata are cached so every project and version is fetched once.
    """

    def __init__(self, index_url: str, target: Target, ctx: Context) -> None:
        self.index_url = index_url.rstrip("/") + "/"
        self.target = target
        self.ctx = ctx
        self._pages: dict[str, ProjectPage] = {}
        self._files: dict[tuple[str, str], list[DistFile]] = {}
        self._metadata: dict[tuple[str, str], Metadata] = {}

    def __enter__(self) -> IndexSource:
        import asyncio

        import httpx

        self._loop = asyncio.new_event_loop()
        self._client = httpx.AsyncClient(http2=True, timeout=60.0, follow_redirects=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()

    def _page(self, name: str) -> ProjectPage:
        from ghostenv.errors import NetworkError
        from ghostenv.index.html import parse_html
        from ghostenv.index.json import parse_json

        if name in self._pages:
            return self._pages[name]
        url = f"{self.index_url}{name}/"
        accept = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"
        resp = self._loop.run_until_complete(self._client.get(url, headers={"Accept": accept}))
        self.ctx.debug(f"GET {url} -> {resp.status_code}")
        if resp.status_code == 404:
            from ghostenv.index import ProjectPage

            page = ProjectPage(name=name, files=())
        elif resp.status_code != 200:
            raise NetworkError(f"{url}: HTTP {resp.status_code}", hint="check --index-url")
        elif "json" in resp.headers.get("content-type", ""):
            page = parse_json(resp.content, str(resp.url))
        else:
            page = parse_html(resp.text, str(resp.url), name)
        self._pages[name] = page
        return page

    def versions(self, name: str) -> Sequence[Candidate]:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.utils import InvalidSdistFilename, parse_sdist_filename

        from ghostenv.errors import WheelError
        from ghostenv.resolve.python import Candidate
        from ghostenv.wheel.filename import parse_wheel_name

        grouped: dict[Version, list[DistFile]] = {}
        for file in self._page(name).files:
            try:
                if file.is_wheel:
                    version = parse_wheel_name(file.filename).version
                else:
                    version = parse_sdist_filename(file.filename)[1]
            except (WheelError, InvalidSdistFilename):
                continue
            grouped.setdefault(version, []).append(file)
        out = []
        for version, files in grouped.items():
            self._files[(name, str(version))] = files
            wheels = [f for f in files if f.is_wheel]
            tags = tuple(sorted({t for f in wheels for t in parse_wheel_name(f.filename).tags}))
            requires = next((f.requires_python for f in files if f.requires_python), None)
            try:
                spec = SpecifierSet(requires) if requires else None
            except InvalidSpecifier:
                spec = None
            out.append(
                Candidate(
                    version=version,
                    requires_python=spec,
                    wheel_tags=tags,
                    has_sdist=any(not f.is_wheel for f in files),
                    yanked=all(bool(f.yanked) for f in files),
                )
            )
        return out

    def chosen_file(self, name: str, version: Version) -> dict[str, object] | None:
        file = self._wheel(name, version)
        if file is None:
            return None
        return {"filename": file.filename, "url": file.url, "hashes": dict(file.hashes)}

    def _wheel(self, name: str, version: Version) -> DistFile | None:
        from packaging.tags import parse_tag

        from ghostenv.wheel.filename import parse_wheel_name

        wheels = [f for f in self._files.get((name, str(version)), []) if f.is_wheel]
        for file in wheels:
            tags = {t for c in parse_wheel_name(file.filename).tags for t in parse_tag(c)}
            if tags & self.target.tags:
                return file
        return wheels[0] if wheels else None

    def metadata(self, name: str, version: Version) -> Metadata:
        from ghostenv.errors import ResolutionError
        from ghostenv.resolve.python import Metadata
        from ghostenv.wheel.metadata import parse_metadata
        from ghostenv.wheel.remote import fetch_wheel_metadata

        key = (name, str(version))
        if key in self._metadata:
            return self._metadata[key]
        file = self._wheel(name, version)
        if file is None:
            raise ResolutionError(f"{name} {version}: no wheel to read metadata from")
        data, stats = self._loop.run_until_complete(
            fetch_wheel_metadata(
                self._client, file.url, metadata_available=bool(file.core_metadata)
            )
        )
        self.ctx.debug(f"metadata {file.filename} via {stats.source}")
        core = parse_metadata(data, source=file.url)
        result = Metadata(core.requires_dist, core.provides_extra)
        self._metadata[key] = result
        return result


def run(args: argparse.Namespace, ctx: Context) -> int:
    from packaging.requirements import InvalidRequirement, Requirement

    from ghostenv.errors import UsageError
    from ghostenv.resolve.python import Options, Target, resolve
    from ghostenv.resolve.solver import SolveFailure

    texts = list(args.requirements)
    for path in args.requirement:
        texts += _read_requirements(path)
    if not texts:
        raise UsageError("no requirements given", hint="pass REQ arguments or -r FILE")
    try:
        requirements = [Requirement(t) for t in texts]
    except InvalidRequirement as exc:
        raise UsageError(f"invalid requirement: {exc}") from exc
    python = args.python_version or ".".join(map(str, sys.version_info[:3]))
    target = Target.linux(python, _platforms(args.python_platform))
    # ghostenv cannot build sdists yet: versions with only an sdist are reported as such.
    options = Options(
        prerelease=args.prerelease,
        resolution=args.resolution,
        only_binary=_names(args.only_binary) | {":all:"},
        no_binary=_names(args.no_binary),
    )
    with IndexSource(args.index_url, target, ctx) as source:
        try:
            pins = resolve(source, requirements, target, options)
        except SolveFailure as failure:
            ctx.error("no solution:\n" + str(failure), failure.hint)
            return 1
        files: dict[str, Any] = {
            name: source.chosen_file(name, version) for name, version in pins.items()
        }
    if args.json:
        import json

        doc = [{"name": n, "version": str(v), "file": files[n]} for n, v in pins.items()]
        ctx.echo(json.dumps({"packages": doc}, indent=2))
    else:
        for name, version in pins.items():
            ctx.echo(f"{name}=={version}")
    return 0
