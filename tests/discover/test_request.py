"""Request parsing: each accepted spelling, and one clear error for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostenv.discover import parse_request
from ghostenv.errors import InterpreterError


@pytest.mark.parametrize(("text", "impl", "prefix", "spec"), [
    ("3.12", "", (3, 12), ""),
    ("3.12.1", "", (3, 12, 1), ""),
    ("3", "", (3,), ""),
    (">=3.10", "", (), ">=3.10"),
    (">=3.10,<3.13", "", (), ">=3.10,<3.13"),
    ("cpython@3.11", "cpython", (3, 11), ""),
    ("cpython3.12", "cpython", (3, 12), ""),
    ("cp312", "cpython", (3, 12), ""),
    ("pypy", "pypy", (), ""),
    ("pypy3.10", "pypy", (3, 10), ""),
    ("pypy@>=3.9", "pypy", (), ">=3.9"),
    ("", "", (), ""),
])
def test_parse(text: str, impl: str, prefix: tuple[int, ...], spec: str) -> None:
    req = parse_request(text)
    assert (req.implementation, req.version_prefix, req.specifier, req.path) == \
        (impl, prefix, spec, None)


def test_path_request(tmp_path: Path) -> None:
    assert parse_request("./venv/bin/python").path == Path("venv/bin/python")
    assert parse_request(str(tmp_path / "py")).path == tmp_path / "py"


@pytest.mark.parametrize("text", ["nope", "3.x", ">=three", "jython-ish@"])
def test_bad_request_is_one_clear_error(text: str) -> None:
    with pytest.raises(InterpreterError) as info:
        parse_request(text)
    assert repr(text) in info.value.message or text in info.value.message
    assert info.value.hint
