"""The process entry point, kept to the standard library.

Every ghostenv run starts here, so this module answers what it can before the
argparse tree (and the ~20-30 ms of imports behind it) exists: ``--version``,
and the up-to-date gate of ``sync``, ``sync --check``, ``status`` and ``run``.
When the gate says the environment is fresh, ``sync`` prints one line and
``run`` replaces this process with the command (``os.execvpe``), so a no-op
costs a Python start-up plus a few ``stat`` calls. Anything unusual (an
option this parser does not know, a stale environment, no project) is handed
to :mod:`ghostenv.cli.main` with the original arguments.
"""

from __future__ import annotations

import os
import sys

# typing and collections.abc cost several ms to import; the fast path reads them
# only under a type checker (which treats any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

_FLAGS = {
    "--all-groups": "all_groups",
    "--no-default-groups": "no_default_groups",
    "--no-dev": "no_dev",
    "--all-extras": "all_extras",
    "--no-install-project": "no_install_project",
    "--frozen": "frozen",
    "--locked": "locked",
    "--inexact": "inexact",
    "--exact": "exact",
    "--check": "check",
    "-q": "quiet",
    "--quiet": "quiet",
}
_VALUES = {"--group": "group", "--extra": "extra", "--python": "python", "-p": "python",
           "--project": "project", "--with": "with"}
#: Options each fast-path command accepts (anything else falls through to argparse).
_ALLOWED = {
    "sync": frozenset(_FLAGS.values()) - {"exact"} | {"group", "extra", "python", "project"},
    "status": frozenset(_FLAGS.values()) - {"exact", "inexact", "check"}
    | {"group", "extra", "python", "project"},
    "run": frozenset(_FLAGS.values()) - {"inexact", "check"}
    | {"group", "extra", "python", "project", "with"},
}


def _parse(args: list[str]) -> tuple[str, dict[str, list[str]], list[str]] | None:
    """``(command, options, command line to run)`` or None when argparse must decide."""
    i = 0
    opts: dict[str, list[str]] = {}
    while i < len(args) and args[i] in ("-q", "--quiet"):
        opts["quiet"] = ["1"]
        i += 1
    if i >= len(args) or args[i] not in _ALLOWED:
        return None
    command = args[i]
    allowed = _ALLOWED[command]
    i += 1
    while i < len(args):
        arg = args[i]
        if command == "run" and (arg == "--" or not arg.startswith("-")):
            return command, opts, args[i + 1:] if arg == "--" else args[i:]
        name, eq, value = arg.partition("=")
        if name in _VALUES and _VALUES[name] in allowed:
            if not eq:
                i += 1
                if i >= len(args):
                    return None
                value = args[i]
            if not value or value.startswith("-"):
                return None
            opts.setdefault(_VALUES[name], []).append(value)
        elif not eq and arg in _FLAGS and _FLAGS[arg] in allowed:
            opts[_FLAGS[arg]] = ["1"]
        else:
            return None
        i += 1
    if command == "run":
        return None  # no command given: let argparse say so
    return command, opts, []


def _fast(args: list[str], started: float) -> int | None:
    """Answer ``sync``/``status``/``run`` from the gate, or None to fall through."""
    parsed = _parse(args)
    if parsed is None or os.name != "posix":
        return None
    command, opts, cmdline = parsed
    default_python = os.environ.get("GHOSTENV_PYTHON") or os.environ.get("UV_PYTHON")
    if default_python and "python" not in opts:  # as --python (argparse's default too)
        opts["python"] = [default_python]
    if (("frozen" in opts and "locked" in opts) or ("extra" in opts and "all_extras" in opts)
            or len(opts.get("python", ())) > 1):
        return None  # argparse explains what is wrong
    from ghostenv.workflow import gate

    if command == "run" and cmdline[0].endswith(".py") and _has_script_block(cmdline[0]):
        return _run_script(opts, cmdline)
    project_opt = opts.get("project")
    if project_opt:
        project = os.path.abspath(project_opt[-1])
        if not os.path.isfile(os.path.join(project, "pyproject.toml")):
            return None
    else:
        found = gate.find_project()
        if found is None:
            return _run_with(opts, None, cmdline) if command == "run" and "with" in opts else None
        project = found
    env_dir = gate.environment_dir(project)
    selection = gate.Selection(
        groups=opts.get("group", ()), extras=opts.get("extra", ()),
        all_groups="all_groups" in opts, no_default_groups="no_default_groups" in opts,
        no_dev="no_dev" in opts, all_extras="all_extras" in opts,
        no_install_project="no_install_project" in opts,
        python=opts["python"][0] if "python" in opts else None,
        checked="frozen" not in opts,
        exact="inexact" not in opts if command != "run" else "exact" in opts,
    )
    check_only = command == "status" or "check" in opts
    reason = gate.check(project, env_dir, selection, refresh=not check_only)
    if check_only:
        sys.stdout.write(f"{reason or 'fresh'}\n")
        return 0 if reason is None else 1
    if reason is not None:
        if "with" in opts:
            return None  # the layer may need resolving too: the full CLI does both
        # Stale: sync right here; argparse and the parser tree would add nothing. First
        # from the lock alone (no packaging, no models), else (None) the full path.
        cache = _cache_dir()
        if cache is not None:
            # a new environment from its recipe (the last engine sync's operations), else
            # the frozen engine path
            from ghostenv.workflow.replay import attempt

            code, ready = attempt(project, env_dir, selection, cache_dir=cache,
                                  quiet="quiet" in opts, always_summary=command == "sync",
                                  started=started)
            if code is None and ready is not False:
                from ghostenv.workflow.frozen import sync as frozen_sync

                code = frozen_sync(project, env_dir, selection, cache_dir=cache,
                                   quiet="quiet" in opts, always_summary=command == "sync",
                                   started=started, prechecked=bool(ready), replay=False)
            if code is not None:
                if command == "sync" or code != 0:
                    _State.synced = True
                    return code
                return _exec([env_dir], cmdline)
        _gc_back_on()  # the full path may resolve: cyclic garbage
        from ghostenv.cli.sync import direct

        code = direct(project, env_dir, selection, quiet="quiet" in opts,
                      locked="locked" in opts, discovered=not project_opt,
                      always_summary=command == "sync")
        if command == "sync" or code != 0:
            return code
        return _exec([env_dir], cmdline)
    if command == "sync":
        if "quiet" not in opts:
            import time

            state = gate.load(env_dir)
            count = state.count if state is not None else 0
            took = (time.perf_counter() - started) * 1000
            noun = "package" if count == 1 else "packages"
            sys.stderr.write(f"Audited {count} {noun} in {took:.2f}ms\n")
        return 0
    if "with" in opts:
        return _run_with(opts, env_dir, cmdline)
    return _exec([env_dir], cmdline)


class _State:
    """What this process did (a namespace, so no ``global`` statements)."""

    synced = False
    """A stale environment was synced by :mod:`ghostenv.workflow.frozen`."""
    gc_off = False
    """The cyclic garbage collector was switched off for the fast path (:func:`main`)."""


def _gc_back_on() -> None:
    """Switch the garbage collector on again when :func:`main` switched it off."""
    if _State.gc_off:
        import gc

        gc.enable()
        _State.gc_off = False


def _leave(code: int) -> int:
    """End the process at once after a fast-path sync, skipping interpreter finalization.

    Tearing down the ~100 modules and objects a sync loaded costs 3-9 ms, up to a
    tenth of a fresh-environment sync. Everything the sync wrote went through
    closed files and renames; this only runs when nothing is registered to run
    at exit and no other thread is alive, and only for a real process entry
    (``main()`` without arguments), never for a caller that imported ``main``.
    """
    import _thread
    import atexit

    if getattr(atexit, "_ncallbacks", lambda: 1)() != 0:
        return code
    if getattr(_thread, "_count", lambda: 1)() != 0:
        return code  # a thread still running, started by threading or by _thread directly
    threading = sys.modules.get("threading")
    if threading is not None and (threading.active_count() != 1
                                  or getattr(threading, "_threading_atexits", [None])):
        return code
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 - contextlib costs an import on the fast path
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _has_script_block(path: str) -> bool:
    """Whether ``path`` is a file with PEP 723 metadata (it gets its own environment)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return "# /// script" in handle.read()
    except (OSError, UnicodeDecodeError):
        return False


def _cache_dir() -> str | None:
    """The cache directory without pathlib on Linux; None elsewhere (the full CLI decides)."""
    from ghostenv._fast import cache_dir

    return cache_dir()


def _run_with(opts: dict[str, list[str]], env_dir: str | None, cmdline: list[str]) -> int | None:
    """``run --with``: the ephemeral environment built earlier for this request, if it holds."""
    cache = _cache_dir()
    if cache is None:
        return None
    from ghostenv.workflow.ephemeral_lookup import lookup

    python = opts["python"][0] if "python" in opts else None
    layer = lookup(opts["with"], python=python, base=env_dir, cache_dir=cache)
    if layer is None:
        return None
    return _exec([layer] if env_dir is None else [layer, env_dir], cmdline)


def _run_script(opts: dict[str, list[str]], cmdline: list[str]) -> int | None:
    """``run script.py`` with PEP 723 metadata: its environment, if built before and still valid."""
    cache = _cache_dir()
    if cache is None or set(opts) - {"python", "quiet"}:
        return None
    from ghostenv.workflow.ephemeral_lookup import script_lookup

    env = script_lookup(cmdline[0], python=opts["python"][0] if "python" in opts else None,
                        cache_dir=cache)
    if env is None:
        return None
    from ghostenv.workflow.run import exec_in

    return exec_in([env], [os.path.join(env, "bin", "python"), *cmdline])


def _exec(env_dirs: list[str], cmdline: list[str]) -> int | None:
    """Replace this process with ``cmdline`` run inside ``env_dirs`` (first one on top)."""
    program = cmdline[0]
    if program.endswith(".py") and os.path.isfile(program):
        if _has_script_block(program):
            return None  # PEP 723 metadata: the script gets its own environment
        cmdline = [os.path.join(env_dirs[0], "bin", "python"), *cmdline]
    from ghostenv.workflow.run import exec_in

    return exec_in(env_dirs, cmdline)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ghostenv with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    import time

    started = time.perf_counter()
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        from ghostenv import __version__

        sys.stdout.write(f"ghostenv {__version__}\n")
        return 0
    # Other stages' stdlib fast paths; each returns None for anything it does not handle.
    if args[:1] == ["ghost"]:  # H7: a built ghost env, printed or exec'd
        from ghostenv.cli.ghost import fast

        code = fast(args[1:])
        if code is not None:
            return code
    elif args[:1] == ["venv"]:  # H4: the venv factory without argparse
        from ghostenv.cli.venv import fast_main as venv_fast

        code = venv_fast(args)
        if code is not None:
            return code
    elif args[:1] == ["lock"]:  # H8: "uv.lock is up to date" from the recorded fingerprint
        from ghostenv.lock.current import fast_main as lock_fast

        code = lock_fast(args)
        if code is not None:
            return code
    if args and os.environ.get("GHOSTENV_NO_GATE", "") in ("", "0"):
        if argv is None:  # a process of its own: the fast paths make no cyclic garbage
            import gc  # (builtin); the collector ran ~7 times during a fresh web sync's

            gc.disable()  # imports and loads, ~0.8 ms (16 times on data, ~1.8 ms)
            _State.gc_off = True
        code = _fast(args, started)
        if code is not None:
            return _leave(code) if argv is None and _State.synced else code
        _gc_back_on()
    from ghostenv.cli.main import main as cli_main

    return cli_main(args)
