"""``ghostenv status``: is the project's environment fresh? Prints ``fresh`` or the reason.

The same question ``ghostenv sync --check`` asks; usually answered by the gate
in :mod:`ghostenv.entry` before this module is imported. Exit 0 when fresh,
1 when stale. Stdlib-only at import time.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ghostenv.cli.output import Context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ghostenv.cli.sync import add_selection_arguments

    add_selection_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from ghostenv.cli.sync import project_dir, selection
    from ghostenv.workflow import gate

    root = project_dir(args)
    env_dir = gate.environment_dir(str(root))
    reason = gate.check(str(root), env_dir, selection(args, exact=True), refresh=False)
    sys.stdout.write(f"{reason or 'fresh'}\n")
    return 0 if reason is None else 1
