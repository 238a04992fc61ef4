"""Interpreter finder: parse a request, walk the search order, probe once, cache.

Public surface::

    from ghostenv.discover import find_interpreter, list_interpreters, Interpreter

    py = find_interpreter("3.12", cache_dir)      # -> Interpreter (raises InterpreterError)
    py.version, py.implementation, py.base_executable, py.paths["purelib"]
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from ghostenv.discover.interpreter import Interpreter
    from ghostenv.discover.request import Request, parse_request
    from ghostenv.discover.search import Candidate, find_interpreter, list_interpreters

_HOMES = {"Interpreter": "interpreter", "Request": "request", "parse_request": "request",
          "Candidate": "search", "find_interpreter": "search", "list_interpreters": "search"}


def __getattr__(name: str) -> object:
    """Load the part that defines ``name`` on first use (PEP 562): importing
    ``ghostenv.discover.probe`` alone (the frozen-sync fast path) then skips the search."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ghostenv.discover' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"ghostenv.discover.{home}"), name)

__all__ = [
    "Candidate",
    "Interpreter",
    "Request",
    "find_interpreter",
    "list_interpreters",
    "parse_request",
]
