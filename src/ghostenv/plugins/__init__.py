"""ghostenv's plugin API: pluggy hooks, loaded only on the paths that need them.

A plugin is a distribution with an entry point in the ``ghostenv`` group::

    [project.entry-points.ghostenv]
    demo = "ghostenv_demo:plugin"      # a module or object holding @hookimpl functions

and implements hooks from :mod:`ghostenv.plugins.spec` (link modes, index
sources, environment created, before/after sync, extra subcommands)::

    from ghostenv.plugins import hookimpl

    @hookimpl
    def ghostenv_link_modes():
        return {"demo-copy": my_place_function}

ghostenv's own link modes and subcommands are registered through the same
hooks (:mod:`ghostenv.plugins.builtins`), so a plugin sees the same table.

Cost is part of the contract. This module imports only ``os`` and ``sys``;
``pluggy`` and the entry points are loaded by :func:`manager` the first time a
path really needs them. The notification helpers (:func:`environment_created`,
:func:`before_sync`, :func:`after_sync`) are what other stages call: when no
installed distribution declares a ``ghostenv`` entry point they return after
one cached scan of the ``*.dist-info`` directories on ``sys.path`` (about a
millisecond, once per process), and ``GHOSTENV_NO_PLUGINS=1`` skips even that.
``ghostenv --version`` and the up-to-date gate never come here.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    import pluggy

    from ghostenv.plugins.spec import Command

#: The entry-point group (and pluggy project name) plugins register under.
GROUP = "ghostenv"
#: Set to a non-empty value other than ``0`` to load no third-party plugins at all.
DISABLE_VAR = "GHOSTENV_NO_PLUGINS"

class _State:
    """What this process has loaded (a namespace, so no ``global`` statements)."""

    manager: pluggy.PluginManager | None = None
    declared: bool | None = None


def __getattr__(name: str) -> object:
    """``hookimpl`` and ``Command`` for plugin authors, without importing pluggy eagerly."""
    if name in ("hookimpl", "hookspec", "Command"):
        from ghostenv.plugins import spec

        return getattr(spec, name)
    raise AttributeError(f"module 'ghostenv.plugins' has no attribute {name!r}")


def disabled() -> bool:
    """Whether third-party plugins are switched off by ``GHOSTENV_NO_PLUGINS``."""
    return os.environ.get(DISABLE_VAR, "") not in ("", "0")


def plugins_declared() -> bool:
    """Whether any distribution on ``sys.path`` declares a ``ghostenv`` entry point.

    A stdlib scan of ``*.dist-info/entry_points.txt`` (importlib.metadata costs
    tens of milliseconds to import); remembered for the rest of the process.
    """
    if _State.declared is None:
        _State.declared = not disabled() and _scan_remembered(sys.path)
    return _State.declared


#: Entries kept in the scan memo (one per distinct ``sys.path``: a few environments).
_MEMO_ENTRIES = 16
#: A directory changed this recently (ns) before a scan is not trusted to show a later
#: change in its times (coarse file system clocks tick every few ms).
_RACY_NS = 50_000_000


def _scan_remembered(paths: Sequence[str]) -> bool:
    """:func:`_scan`, answered from a memo while no ``sys.path`` directory has changed.

    Installing or removing a distribution adds or removes a ``*.dist-info``
    directory, which changes its parent's change time; the memo (``plugins-v1.bin``
    in the cache directory, keyed by ``sys.path``) holds each directory's ctime and
    mtime at the scan and is used only while all are unchanged. (An
    ``entry_points.txt`` edited in place, inside a dist-info that stays, is not
    seen: installers write a new dist-info.) A scan is remembered only when
    no directory changed within :data:`_RACY_NS` before it started, so a change
    in the same clock tick cannot hide. Saves the ~1-2 ms scan (dozens of
    ``entry_points.txt`` files opened) on every fresh-environment sync.
    """
    from ghostenv._fast import cache_dir, read_file

    cache = cache_dir()
    if cache is None:
        return _scan(paths)
    import marshal
    import time

    memo_path = os.path.join(cache, "plugins-v1.bin")
    key = tuple(entry or os.getcwd() for entry in paths)  # "" is the working directory
    started = time.time_ns()
    stamps = []
    for entry in key:
        try:
            st = os.stat(entry)
        except OSError:
            stamps.append(-1)
            continue
        stamps.append(st.st_ctime_ns)  # no tool can set it back, as ``touch -d`` can mtime
        stamps.append(st.st_mtime_ns)
    signature = tuple(stamps)
    memo: dict[tuple[str, ...], tuple[tuple[int, ...], bool]] = {}
    try:
        loaded = marshal.loads(read_file(memo_path))
        if isinstance(loaded, dict):
            memo = loaded
    except (OSError, EOFError, ValueError, TypeError):
        pass
    found = memo.get(key)
    if isinstance(found, tuple) and len(found) == 2 and found[0] == signature:
        return bool(found[1])
    declared = _scan(paths)
    if max(stamps, default=-1) < started - _RACY_NS:
        memo.pop(key, None)
        while len(memo) >= _MEMO_ENTRIES:
            memo.pop(next(iter(memo)))
        memo[key] = (signature, declared)
        from ghostenv._fast import write_small

        try:  # noqa: SIM105 - contextlib costs an import on the fast path
            write_small(memo_path, marshal.dumps(memo), make_parent=True)
        except OSError:
            pass  # a memo we cannot write only costs the scan next time
    return declared


def _scan(paths: Sequence[str]) -> bool:
    header = f"[{GROUP}]"
    for entry in paths:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(entry or ".", name, "entry_points.txt"),
                          encoding="utf-8") as handle:
                    if any(line.strip() == header for line in handle):
                        return True
            except OSError:
                continue
    return False


def manager() -> pluggy.PluginManager:
    """The process's plugin manager: built-ins plus the ``ghostenv`` entry points."""
    if _State.manager is None:
        import pluggy

        from ghostenv.plugins import builtins, spec

        pm = pluggy.PluginManager(GROUP)
        pm.add_hookspecs(spec)
        pm.register(builtins, name="ghostenv.builtins")
        if not disabled():
            _load_entry_points(pm)
        _State.manager = pm
    return _State.manager


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    """Register every ``ghostenv`` entry point; a broken plugin is named, not a traceback."""
    from importlib.metadata import entry_points

    from ghostenv.errors import GhostenvError

    for ep in entry_points(group=GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:
            dist = ep.dist.name if ep.dist is not None else "unknown distribution"
            raise GhostenvError(
                f"plugin `{ep.name}` ({ep.value}, from {dist}) failed to load: "
                f"{type(exc).__name__}: {exc}",
                hint=f"fix or uninstall {dist}, or set {DISABLE_VAR}=1 to run without plugins",
            ) from exc
        pm.register(plugin, name=ep.name)


def reset() -> None:
    """Forget the loaded manager and the scan (tests that install plugins mid-process)."""
    _State.manager = None
    _State.declared = None


# -- what the CLI and other stages call ------------------------------------------------------


def command(name: str) -> Command | None:
    """The subcommand ``name`` from a plugin (or a built-in registered by hook), if any."""
    groups: list[Sequence[Command]] = manager().hook.ghostenv_commands()
    for group in groups:
        for cmd in group:
            if cmd.name == name:
                return cmd
    return None


def commands() -> list[tuple[str, Command]]:
    """Every subcommand the hooks provide, with the plugin name that provided it."""
    found: list[tuple[str, Command]] = []
    pm = manager()
    from typing import cast

    for impl in reversed(pm.hook.ghostenv_commands.get_hookimpls()):
        table = cast("Sequence[Command]", impl.function())
        found.extend((impl.plugin_name, cmd) for cmd in table)
    return found


def link_modes() -> dict[str, Callable[[Path, Path], None]]:
    """``name -> place(src, dst)`` for every link mode, built-in or from a plugin.

    Built-ins come first and win a name clash; a plugin cannot replace them.
    """
    modes: dict[str, Callable[[Path, Path], None]] = {}
    for table in reversed(manager().hook.ghostenv_link_modes()):
        for mode_name, function in table.items():
            modes.setdefault(mode_name, function)
    return modes


def link_mode(name: str) -> Callable[[Path, Path], None] | None:
    """The ``place(src, dst)`` function of link mode ``name`` (None when nobody has it)."""
    return link_modes().get(name)


def index_source(url: str, settings: object) -> object | None:
    """A resolver source for ``url`` from a plugin that claims its scheme, else None."""
    if not plugins_declared():
        return None
    source: object | None = manager().hook.ghostenv_index_source(url=url, settings=settings)
    return source


def environment_created(path: Path, python: Path) -> None:
    """Tell plugins a new environment exists at ``path`` (its interpreter ``python``)."""
    if plugins_declared():
        manager().hook.ghostenv_environment_created(path=path, python=python)


def before_sync(env: Path, lock: Path | None) -> None:
    """Tell plugins an environment is about to be synced (``lock`` may be None)."""
    if plugins_declared():
        manager().hook.ghostenv_before_sync(env=env, lock=lock)


def after_sync(env: Path, installed: Sequence[str], removed: Sequence[str]) -> None:
    """Tell plugins a sync finished (``name==version`` strings installed and removed)."""
    if plugins_declared():
        manager().hook.ghostenv_after_sync(env=env, installed=list(installed),
                                           removed=list(removed))
