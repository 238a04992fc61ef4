"""ghostenv's own features, registered through the plugin hooks like any plugin.

The four link modes of :mod:`ghostenv.materialize.link` and every subcommand
of :data:`ghostenv.cli.main.COMMANDS` are offered here, so ``ghostenv
plugins`` lists built-ins and third-party additions in one table and a plugin
sees exactly what it competes with. The CLI itself still dispatches built-in
names straight from ``COMMANDS`` (no pluggy on that path); the hooks are
consulted for names it does not know. ``ghostenv plugins`` exists only here.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ghostenv.plugins.spec import Command, LinkFunction, hookimpl

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


@hookimpl(trylast=True)
def ghostenv_link_modes() -> Mapping[str, LinkFunction]:
    from ghostenv.materialize.link import LinkMode, place

    return {mode.value: partial(_place, mode=mode, place=place) for mode in LinkMode}


def _place(src: Path, dst: Path, *, mode: object, place: object) -> None:
    place(src, dst, mode)  # type: ignore[operator]


def _lazy_add(module: str, parser: argparse.ArgumentParser) -> None:
    importlib.import_module(module).add_arguments(parser)


def _lazy_run(module: str, args: argparse.Namespace, ctx: Context) -> int:
    result: int = importlib.import_module(module).run(args, ctx)
    return result


@hookimpl(trylast=True)
def ghostenv_commands() -> Sequence[Command]:
    from ghostenv.cli.main import COMMANDS

    table = [Command(name, help_text, partial(_lazy_add, module), partial(_lazy_run, module))
             for name, (module, help_text) in COMMANDS.items()]
    table.append(Command("plugins", "list installed ghostenv plugins, link modes and commands",
                         _plugins_arguments, _plugins_run))
    return table


def _plugins_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _plugins_run(args: argparse.Namespace, ctx: Context) -> int:
    """Print each registered plugin with the link modes, commands and hooks it adds."""
    from ghostenv.plugins import manager

    pm = manager()
    rows: dict[str, dict[str, list[str]]] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        row: dict[str, list[str]] = {"link_modes": [], "commands": [], "hooks": []}
        for caller in pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                row["hooks"].append(caller.name)
                if caller.name == "ghostenv_link_modes":
                    modes = cast("Mapping[str, LinkFunction]", impl.function())
                    row["link_modes"].extend(modes)
                elif caller.name == "ghostenv_commands":
                    table = cast("Sequence[Command]", impl.function())
                    row["commands"].extend(cmd.name for cmd in table)
        row["hooks"].sort()
        rows[name] = row
    if args.json:
        import json

        ctx.echo(json.dumps(rows, indent=2, sort_keys=True))
        return 0
    for name in sorted(rows, key=lambda n: (n != "ghostenv.builtins", n)):
        row = rows[name]
        ctx.echo(name)
        if row["link_modes"]:
            ctx.echo(f"  link modes: {', '.join(row['link_modes'])}")
        if row["commands"]:
            ctx.echo(f"  commands:   {', '.join(row['commands'])}")
        ctx.echo(f"  hooks:      {', '.join(row['hooks']) or '-'}")
    return 0
