"""The process entry point, kept to ``sys`` alone.

Every ghostenv run starts here, so this module decides what can be answered
without building the argparse tree: ``--version`` today, the up-to-date gate
of ``sync``/``run`` later. Everything else is handed to :mod:`ghostenv.cli.main`.
"""

from __future__ import annotations

import sys

# typing and collections.abc cost several ms to import; the fast path reads them
# only under a type checker (which treats any name TYPE_CHECKING as true).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ghostenv with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["--version"]:
        from ghostenv import __version__

        sys.stdout.write(f"ghostenv {__version__}\n")
        return 0
    from ghostenv.cli.main import main as cli_main

    return cli_main(args)
