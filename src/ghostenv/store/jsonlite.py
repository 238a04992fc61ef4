"""JSON for the small cache files the install path reads, without importing :mod:`json`.

``json.decoder`` compiles regular expressions at import, which pulls in ``re``
(and ``enum``); together several milliseconds per command for reading a probe
cache entry or an environment record. The C accelerator ``_json`` that
:mod:`json` itself uses has the same scanner and encoder and imports nothing;
this module drives it directly (and falls back to :mod:`json` where the
accelerator is missing, as on some other Python implementations).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"


class _Context:
    """What ``_json.make_scanner`` reads off a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


_SCANNER: list[Callable[[str, int], tuple[Any, int]]] = []
_ENCODER: list[Callable[[Any, int], Any]] = []


def loads(text: str) -> Any:
    """Parse one JSON document; ValueError when it is not one."""
    if not _SCANNER:
        try:
            from _json import make_scanner
        except ImportError:  # pragma: no cover - CPython always has it
            import json

            return json.loads(text)
        _SCANNER.append(make_scanner(_Context()))  # type: ignore[arg-type]
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _SCANNER[0](text, start)
    except StopIteration as exc:
        raise ValueError(f"not JSON (at {exc.value})") from None
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data after JSON (at {end})")
    return value


def _unserializable(value: object) -> object:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys (what ``json.dumps(..., sort_keys=True)`` writes,
    with ``,``/``:`` separators)."""
    if not _ENCODER:
        try:
            from _json import encode_basestring_ascii, make_encoder
        except ImportError:  # pragma: no cover - CPython always has it
            import json

            return json.dumps(value, sort_keys=True, separators=(",", ":"))
        _ENCODER.append(make_encoder({}, _unserializable, encode_basestring_ascii, None,
                                     ":", ",", True, False, True))
    return "".join(_ENCODER[0](value, 0))
