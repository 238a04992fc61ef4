"""Interpreter finder: parse a request, walk the search order, probe once, cache.

Public surface::

    from ghostenv.discover import find_interpreter, list_interpreters, Interpreter

    py = find_interpreter("3.12", cache_dir)      # -> Interpreter (raises InterpreterError)
    py.version, py.implementation, py.base_executable, py.paths["purelib"]
"""

from __future__ import annotations

from ghostenv.discover.interpreter import Interpreter
from ghostenv.discover.request import Request, parse_request
from ghostenv.discover.search import Candidate, find_interpreter, list_interpreters

__all__ = [
    "Candidate",
    "Interpreter",
    "Request",
    "find_interpreter",
    "list_interpreters",
    "parse_request",
]
