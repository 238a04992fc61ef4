"""``ghostenv venv [PATH] [--python REQUEST] [--clear] [--seed]``: write a virtual environment.

The factory itself takes a few milliseconds; most of a CLI call used to be
imports (argparse, the output helpers). :func:`fast_main` handles the common
spellings without argparse and is what ``ghostenv.entry`` calls first; any
option it does not know sends the call down the normal argparse path.
``--seed`` adds pip from the store (resolved against the index once, then
remembered like a ``run --with`` resolution).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from ghostenv.cli.output import Context
    from ghostenv.discover import Interpreter


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``ghostenv venv``."""
    parser.add_argument("path", nargs="?", default=".venv",
                        help="where to create it (default: .venv)")
    parser.add_argument("-p", "--python", metavar="REQUEST", default=None,
                        help="interpreter: 3.12, >=3.10, cpython@3.11, pypy, or a path")
    parser.add_argument("--clear", action="store_true", help="remove the directory first")
    parser.add_argument("--prompt", default=None, help="prompt prefix (default: directory name)")
    parser.add_argument("--system-site-packages", action="store_true",
                        help="let the environment see the base interpreter's site-packages")
    parser.add_argument("--seed", action="store_true", help="install pip (from the store)")
    parser.add_argument("--index-url", default=None,
                        help="index for --seed (default: GHOSTENV_INDEX_URL or PyPI)")


def _find(python: str | None, cache_dir: Path) -> Interpreter:
    """The interpreter for ``--python``: remembered (a few ``stat`` calls), else searched."""
    from ghostenv.discover.memo import lookup

    hit = lookup(cache_dir, python)
    if hit is not None:
        from ghostenv.discover.interpreter import Interpreter

        try:
            return Interpreter.from_probe(hit[0], hit[1], source=hit[2])
        except (KeyError, TypeError, ValueError):
            pass  # a memo of another shape: search again (and rewrite it)
    from ghostenv.discover import find_interpreter

    return find_interpreter(python, cache_dir)


def _create(path: str, python: str | None, *, clear: bool, prompt: str | None,
            system_site_packages: bool, cache_dir: Path, quiet: bool,
            debug: Callable[[str], None]) -> tuple[Interpreter, Path]:
    from ghostenv.materialize.venv import create_venv

    interp = _find(python, cache_dir)
    debug(f"using {interp.key} at {interp.path} (base {interp.base_executable})")
    command = " ".join(["ghostenv", *sys.argv[1:]]) if sys.argv[1:] else None
    layout = create_venv(path, interp, clear=clear, prompt=prompt,
                         system_site_packages=system_site_packages, command=command)
    if not quiet:
        sys.stderr.write(f"Created {layout.root} with {interp.key} ({interp.base_executable})\n"
                         f"Activate with: source {layout.scripts / 'activate'}\n")
    return interp, layout.root


def seed(root: Path, interp: Interpreter, *, cache_dir: Path, index_url: str | None,
         offline: bool, log: Callable[[str], None]) -> list[str]:
    """Install pip into the environment at ``root`` through the store; returns ``name==version``."""
    from pathlib import Path

    from ghostenv.materialize.venv import layout_for
    from ghostenv.resolve.index_source import DEFAULT_INDEX, IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.ephemeral import resolve_remembered
    from ghostenv.workflow.plan import install_wanted

    settings = IndexSettings(
        index_url=index_url or os.environ.get("GHOSTENV_INDEX_URL")
        or os.environ.get("UV_INDEX_URL") or DEFAULT_INDEX,
        cache_dir=Path(cache_dir), offline=offline)
    wanted = resolve_remembered(["pip"], interpreter=interp, settings=settings,
                                cache_dir=Path(cache_dir), log=log)
    layout = layout_for(root, interp)
    _plan, report = install_wanted(wanted, layout, Store(Path(cache_dir) / "store"),
                                   offline=offline, progress=log)
    return report.installed


def run(args: argparse.Namespace, ctx: Context) -> int:
    """Create the environment (and seed it)."""
    interp, root = _create(args.path, args.python, clear=args.clear, prompt=args.prompt,
                           system_site_packages=args.system_site_packages,
                           cache_dir=ctx.cache_dir, quiet=ctx.quiet, debug=ctx.debug)
    if args.seed:
        seeded = seed(root, interp, cache_dir=ctx.cache_dir, index_url=args.index_url,
                      offline=ctx.offline, log=lambda t: ctx.debug(t, 2))
        ctx.info(f"Seeded {', '.join(seeded) or 'pip (already there)'}")
    return 0


_VALUE_OPTIONS = {"-p": "python", "--python": "python", "--prompt": "prompt",
                  "--cache-dir": "cache_dir", "--index-url": "index_url"}
_FLAG_OPTIONS = {"--clear": "clear", "--system-site-packages": "system_site_packages",
                 "-q": "quiet", "--quiet": "quiet", "--seed": "seed", "--offline": "offline"}


def fast_main(argv: Sequence[str]) -> int | None:
    """``ghostenv venv ...`` without argparse; None when ``argv`` needs the full parser.

    ``argv`` starts with ``venv``. Errors raised here are ``GhostenvError``s and
    are printed the usual way (one ``error:`` line and a hint).
    """
    if not argv or argv[0] != "venv":
        return None
    opts: dict[str, object] = {"path": None}
    items = list(argv[1:])
    while items:
        item = items.pop(0)
        key, eq, inline = item.partition("=")
        if key in _VALUE_OPTIONS:
            if eq:
                opts[_VALUE_OPTIONS[key]] = inline
            elif items:
                opts[_VALUE_OPTIONS[key]] = items.pop(0)
            else:
                return None
        elif item in _FLAG_OPTIONS:
            opts[_FLAG_OPTIONS[item]] = True
        elif item.startswith("-") or opts["path"] is not None:
            return None  # -v, --help, unknown options: the full parser explains them
        else:
            opts["path"] = item
    from ghostenv.errors import GhostenvError, exit_code_for

    quiet = bool(opts.get("quiet"))
    python = str(opts["python"]) if opts.get("python") else None
    try:
        if not opts.get("seed"):
            code = _remembered(opts, python, quiet=quiet)
            if code is not None:
                return code
        from pathlib import Path

        from ghostenv.paths import user_cache_dir

        cache_dir = Path(str(opts["cache_dir"])) if opts.get("cache_dir") else user_cache_dir()
        offline = bool(opts.get("offline")) or os.environ.get("GHOSTENV_OFFLINE", "") not in (
            "", "0")
        interp, root = _create(str(opts["path"] or ".venv"), python,
                               clear=bool(opts.get("clear")),
                               prompt=str(opts["prompt"]) if opts.get("prompt") else None,
                               system_site_packages=bool(opts.get("system_site_packages")),
                               cache_dir=cache_dir, quiet=quiet, debug=lambda _t: None)
        if opts.get("seed"):
            seeded = seed(root, interp, cache_dir=cache_dir,
                          index_url=str(opts["index_url"]) if opts.get("index_url") else None,
                          offline=offline, log=lambda _t: None)
            if not quiet:
                sys.stderr.write(f"Seeded {', '.join(seeded) or 'pip (already there)'}\n")
    except GhostenvError as exc:
        sys.stderr.write(f"error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"hint: {exc.hint}\n")
        return exit_code_for(exc)
    return 0


def _cache_dir_str(opts: dict[str, object]) -> str | None:
    """The cache directory as ``ghostenv.paths.user_cache_dir`` finds it on Linux, without
    pathlib; None elsewhere (the caller then takes the general path)."""
    from ghostenv._fast import cache_dir

    return cache_dir(str(opts["cache_dir"]) if opts.get("cache_dir") else None)


def _remembered(opts: dict[str, object], python: str | None, *, quiet: bool) -> int | None:
    """Create the venv from the remembered find, if it still holds; None to search instead.

    Imports no ``pathlib``, no finder, no ``json``: a remembered probe, one
    ``VenvSpec`` and a dozen file writes.
    """
    cache_dir = _cache_dir_str(opts)
    if cache_dir is None:
        return None
    from ghostenv.discover.memo import lookup

    hit = lookup(cache_dir, python)
    if hit is None:
        return None
    from ghostenv.materialize.venv import VenvSpec, write_venv

    _path, data, _source = hit
    try:
        spec = VenvSpec.from_probe(data)
        version = tuple(data["version_info"][:2])
    except (KeyError, TypeError, ValueError, IndexError):
        return None  # a memo of another shape: the full path searches (and rewrites it)
    if version < (3, 8):
        return None  # too old: the full path explains
    command = " ".join(["ghostenv", *sys.argv[1:]]) if sys.argv[1:] else \
        f"ghostenv venv {os.path.abspath(str(opts['path'] or '.venv'))} --python {_path}"
    root, new = write_venv(str(opts["path"] or ".venv"), spec, command=command,
                           clear=bool(opts.get("clear")),
                           prompt=str(opts["prompt"]) if opts.get("prompt") else None,
                           system_site_packages=bool(opts.get("system_site_packages")))
    scripts = os.path.join(root, spec.scripts)
    if new:
        from ghostenv import plugins

        if plugins.plugins_declared():
            from pathlib import Path

            plugins.environment_created(Path(root), Path(scripts) / "python")
    if not quiet:
        config = data.get("config_vars") or {}
        threaded = bool(config.get("Py_GIL_DISABLED")) or "t" in str(data.get("abiflags") or "")
        key = f"{spec.implementation}-{spec.version_str}{'+freethreaded' if threaded else ''}"
        sys.stderr.write(f"Created {root} with {key} ({spec.base})\n"
                         f"Activate with: source {os.path.join(scripts, 'activate')}\n")
    return 0
