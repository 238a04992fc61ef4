"""``ghostenv build [SOURCE]``: build a wheel (PEP 660 editable wheel, sdist) of a project or sdist.

The build runs the project's PEP 517 backend in an isolated environment that
ghostenv resolves and materializes from its store, and the wheel is cached by
the source's hash: building an unchanged tree again copies the cached wheel.
The built file's path is printed on stdout.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghostenv.cli.output import Context

DEFAULT_INDEX = "https://pypi.org/simple/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", nargs="?", default=".", metavar="SOURCE",
                        help="project directory or sdist (.tar.gz/.zip); default: .")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--wheel", action="store_true", help="build a wheel (the default)")
    kind.add_argument("--editable", action="store_true",
                      help="build a PEP 660 editable wheel of a project directory")
    kind.add_argument("--sdist", action="store_true",
                      help="build a source distribution of a project directory")
    parser.add_argument("--out-dir", "-o", type=Path, metavar="DIR",
                        help="where to put the built file "
                             "(default: SOURCE/dist, or beside an sdist)")
    parser.add_argument("--python", "-p", metavar="REQUEST",
                        help="interpreter to build for (version, name or path)")
    parser.add_argument("--index-url", default=DEFAULT_INDEX,
                        help="simple index for the build requirements")
    parser.add_argument("--extra-index-url", action="append", default=[], metavar="URL")
    parser.add_argument("--find-links", action="append", default=[], metavar="DIR|URL",
                        help="a directory or HTML page of wheels to use as well")
    parser.add_argument("--refresh", action="store_true", help="revalidate every cached page")
    parser.add_argument("-C", "--config-setting", action="append", default=[],
                        metavar="KEY[=VALUE]",
                        help="PEP 517 config setting for the backend (repeatable; a key given "
                             "twice becomes a list)")


def _requires_python(source: Path) -> str | None:
    """The project's requires-python, the default interpreter request (as sync does)."""
    import tomllib

    try:
        doc = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    value = doc.get("project", {}).get("requires-python")
    return value if isinstance(value, str) else None


def _config_settings(values: list[str]) -> dict[str, str | list[str]]:
    """``-C k=v -C k=w -C flag`` -> ``{"k": ["v", "w"], "flag": ""}`` (as ``python -m build``)."""
    out: dict[str, str | list[str]] = {}
    for item in values:
        key, _, value = item.partition("=")
        old = out.get(key)
        if old is None:
            out[key] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            out[key] = [old, value]
    return out


def run(args: argparse.Namespace, ctx: Context) -> int:
    import shutil

    from ghostenv.build import build_sdist, build_wheel
    from ghostenv.discover import find_interpreter
    from ghostenv.errors import from_os_error
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store

    started = time.perf_counter()
    source = Path(args.source).resolve()
    interpreter = find_interpreter(args.python or _requires_python(source), ctx.cache_dir)
    settings = IndexSettings(index_url=args.index_url,
                             extra_index_urls=tuple(args.extra_index_url),
                             find_links=tuple(args.find_links), cache_dir=ctx.cache_dir,
                             offline=ctx.offline, refresh=args.refresh)
    store = Store(ctx.cache_dir / "store")
    fresh: list[str] = []

    def log(line: str) -> None:
        if ": built " in line:  # build_wheel's own line; a cache hit runs no backend at all
            fresh.append(line)
        ctx.debug(line)

    config = _config_settings(args.config_setting) or None
    if args.sdist:
        built = build_sdist(source, interpreter=interpreter, settings=settings, store=store,
                            log=log, config_settings=config)
    else:
        built = build_wheel(source, interpreter=interpreter, settings=settings, store=store,
                            editable=args.editable, log=log, config_settings=config)
    out_dir = args.out_dir or (source.parent if source.is_file() else source / "dist")
    target = out_dir / built.name
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.ghostenv-tmp")
        shutil.copyfile(built, tmp)
        tmp.replace(target)
    except OSError as exc:
        raise from_os_error(exc, action="copying the built wheel") from exc
    ctx.echo(str(target))
    ctx.info(f"Built {target.name} for {interpreter.key} in "
             f"{(time.perf_counter() - started) * 1000:.0f}ms"
             + ("" if fresh else " (cached: source unchanged)"))
    return 0
