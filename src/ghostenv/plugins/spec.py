"""The hook specifications: one documented function per thing a plugin can extend.

Every hook name starts with ``ghostenv_``. Implement one in a plugin module
with the :data:`hookimpl` marker and the same argument names (pluggy passes
arguments by name, so an implementation may take fewer than the spec lists)::

    from ghostenv.plugins import hookimpl

    @hookimpl
    def ghostenv_environment_created(path, python):
        (path / "MANAGED_BY").write_text("ghostenv\\n")

Hooks that return a value are called in every plugin and give a list of the
results (newest registration first), except where ``firstresult`` says the
first non-None answer wins. ghostenv's own features are implemented in
:mod:`ghostenv.plugins.builtins` through these same hooks.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from ghostenv.cli.output import Context

hookspec = pluggy.HookspecMarker("ghostenv")
hookimpl = pluggy.HookimplMarker("ghostenv")

#: ``place(src, dst)``: put the store file ``src`` at the new path ``dst``.
LinkFunction = Callable[[Path, Path], None]


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand: what ``ghostenv NAME ...`` parses and runs.

    ``add_arguments`` and ``run`` have the signatures of a built-in subcommand
    module (see :mod:`ghostenv.cli.main`); ``run`` returns the exit code.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Context], int]


@hookspec
def ghostenv_link_modes() -> Mapping[str, LinkFunction]:  # type: ignore[empty-body]
    """Link modes this plugin provides, as ``{name: place}``.

    ``place(src, dst)`` must create ``dst`` (which does not exist) with the
    content of the read-only store file ``src``, or raise ``OSError``. It is
    called once per installed file, so keep it cheap. Built-in names
    (``clone``, ``hardlink``, ``copy``, ``symlink``) cannot be replaced.
    Selected by name, e.g. ``GHOSTENV_LINK_MODE=NAME`` where the installer
    supports plugin modes.
    """


@hookspec(firstresult=True)
def ghostenv_index_source(url: str, settings: object) -> object | None:
    """A resolver source for an index URL ghostenv cannot read itself, or None.

    ``url`` is the index URL as configured (e.g. ``s3://bucket/simple``),
    ``settings`` the :class:`ghostenv.resolve.index_source.IndexSettings` in
    force. Return an object with the interface of
    :class:`ghostenv.resolve.index_source.IndexSource` (a context manager with
    ``versions``, ``metadata``, ``files``) when your plugin serves that URL's
    scheme; return None otherwise so other plugins and the built-in HTTP(S)
    and ``file:`` source get their turn. The first non-None answer wins.
    """


@hookspec
def ghostenv_environment_created(path: Path, python: Path) -> None:
    """A new virtual environment was written at ``path``; ``python`` is its interpreter.

    Called once when the directory is created (not on every refresh), before
    any package is installed. Use it to drop configuration files or record
    the environment somewhere; raising aborts the command that created it.
    """


@hookspec
def ghostenv_before_sync(env: Path, lock: Path | None) -> None:
    """An environment is about to be made to match a lock file.

    ``env`` is the environment's directory, ``lock`` the uv.lock it follows
    (None when the lock came from somewhere else, e.g. a git revision).
    Raising a :class:`ghostenv.errors.GhostenvError` stops the sync with that
    message.
    """


@hookspec
def ghostenv_after_sync(env: Path, installed: Sequence[str], removed: Sequence[str]) -> None:
    """A sync finished; ``installed``/``removed`` hold ``name==version`` strings.

    Both are empty when the environment was already up to date.
    """


@hookspec
def ghostenv_commands() -> Sequence[Command]:  # type: ignore[empty-body]
    """Subcommands this plugin adds to the ``ghostenv`` CLI.

    A name that a built-in subcommand already has is ignored for that plugin
    (built-ins are looked up first). The plugin is only imported when the
    user runs a name ghostenv does not know, or ``ghostenv plugins``.
    """
