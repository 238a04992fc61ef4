"""``ghostenv resolve``: resolve requirements against an index and print the pins.

Metadata comes from wheels when there is one (PEP 658 files, else HTTP Range
reads of the wheel), else from the sdist: its PKG-INFO when Metadata-Version
>= 2.2 says the fields are static, else a PEP 517 metadata build (the build
interpreter is found only when a build is needed). Exit 1 with the numbered
explanation when no set of versions satisfies the requirements.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from ghostenv.cli.output import Context
    from ghostenv.index import DistFile
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.resolve.python import Target

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
        help="target platform, as uv names them: linux, macos, windows, "
        "x86_64-unknown-linux-gnu, aarch64-apple-darwin, x86_64-pc-windows-msvc, "
        "x86_64-manylinux_2_N, ... (default: x86_64-manylinux_2_39)",
    )
    parser.add_argument("--index-url", default=DEFAULT_INDEX, help="simple index base URL")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                        help="another index, used for projects the first ones lack")
    parser.add_argument("--find-links", action="append", default=[], metavar="DIR|URL",
                        help="a directory or HTML page of files to use as well")
    parser.add_argument("--refresh", action="store_true", help="revalidate every cached page")
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


def _target(python: str, platform: str) -> Target:
    from ghostenv.errors import UsageError
    from ghostenv.resolve.python import Target

    try:
        return Target.for_platform(python, platform)
    except ValueError:
        raise UsageError(
            f"--python-platform {platform}: unsupported platform",
            hint="use linux, macos, windows, x86_64-unknown-linux-gnu, aarch64-apple-darwin, "
            "x86_64-apple-darwin, x86_64-pc-windows-msvc or {x86_64,aarch64}-manylinux_2_N",
        ) from None


def _names(values: list[str]) -> frozenset[str]:
    from packaging.utils import canonicalize_name

    out: set[str] = set()
    for value in values:
        out.update(":all:" if v == ":all:" else canonicalize_name(v) for v in value.split(","))
    return frozenset(out)


def _file_doc(file: DistFile | None) -> dict[str, object] | None:
    if file is None:
        return None
    return {"filename": file.filename, "url": file.url, "hashes": dict(file.hashes)}


def _lazy_sdist_builder(settings: IndexSettings, ctx: Context,
                        python: str) -> Callable[[DistFile], bytes]:
    """IndexSource's ``sdist_metadata``: finds an interpreter and the store on first use.

    Most resolutions never build (wheels, or a trustworthy PKG-INFO), so they never
    pay for the interpreter probe. Metadata rarely depends on the building Python:
    the target's version is preferred, any interpreter will do.
    """
    built: list[Callable[[DistFile], bytes]] = []

    def build(file: DistFile) -> bytes:
        if not built:
            from ghostenv.build import sdist_metadata_builder
            from ghostenv.discover.search import find_interpreter
            from ghostenv.errors import InterpreterError
            from ghostenv.store.cas import Store

            try:
                interpreter = find_interpreter(".".join(python.split(".")[:2]), ctx.cache_dir)
            except InterpreterError:
                interpreter = find_interpreter(None, ctx.cache_dir)
            store = Store(ctx.cache_dir / "store")
            built.append(sdist_metadata_builder(interpreter, settings, store,
                                                log=lambda t: ctx.debug(t, 1)))
        return built[0](file)

    return build


def run(args: argparse.Namespace, ctx: Context) -> int:
    from packaging.requirements import InvalidRequirement, Requirement

    from ghostenv.errors import UsageError

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
    from ghostenv.resolve.index_source import IndexSettings, open_source

    settings = IndexSettings(
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url),
        find_links=tuple(args.find_links),
        cache_dir=ctx.cache_dir,
        offline=ctx.offline,
        refresh=args.refresh,
    )
    builder = _lazy_sdist_builder(settings, ctx, python)
    with open_source(settings, None, log=lambda t: ctx.debug(t, 2),
                     sdist_metadata=builder) as source:
        # the root pages are requested before the resolver's own modules are imported
        # and the target's tags computed (~50 ms of work the first round trip now hides)
        source.prefetch(sorted({r.name for r in requirements}))
        from ghostenv.resolve.python import Options, resolve
        from ghostenv.resolve.solver import SolveFailure

        target = _target(python, args.python_platform)
        source.target = target
        options = Options(
            prerelease=args.prerelease,
            resolution=args.resolution,
            only_binary=_names(args.only_binary),
            no_binary=_names(args.no_binary),
        )
        try:
            pins = resolve(source, requirements, target, options)
        except SolveFailure as failure:
            ctx.error("no solution:\n" + str(failure), failure.hint)
            return 1
        files: dict[str, Any] = {
            name: _file_doc(source.best_wheel(name, version)) for name, version in pins.items()
        } if args.json else {}
    if args.json:
        import json

        doc = [{"name": n, "version": str(v), "file": files[n]} for n, v in pins.items()]
        ctx.echo(json.dumps({"packages": doc}, indent=2))
    else:
        for name, version in pins.items():
            ctx.echo(f"{name}=={version}")
    return 0
