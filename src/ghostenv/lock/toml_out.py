"""The lexical half of the writer: strings, keys, inline tables and arrays as uv formats them.

uv serializes with toml_writer, which picks the first string form that can hold
the value (basic, literal, multi-line basic, multi-line literal, escaped basic);
reproducing that choice is what makes markers such as
``'''platform_version == 'back\\slash''''`` come out byte-identical (spec §2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
    '"': '\\"',
    "\\": "\\\\",
}


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
#: The common case, decided in one C call: a basic string needs no escape at all.
_PLAIN = re.compile('[^"\\\\\x00-\x08\x0a-\x1f\x7f]*')


def _has_control(text: str, *, allow_newline: bool) -> bool:
    """Control characters other than tab (and newline when allowed)."""
    pattern = _CONTROL_BUT_NEWLINE if allow_newline else _CONTROL
    return pattern.search(text) is not None


def quote(text: str) -> str:
    """Quote a string value the way toml_writer's default does.

    >>> quote("a'b")
    '"a\\'b"'
    """
    if _PLAIN.fullmatch(text):
        return f'"{text}"'
    if '"' not in text and "\\" not in text and not _has_control(text, allow_newline=False):
        return f'"{text}"'
    if "'" not in text and not _has_control(text, allow_newline=False):
        return f"'{text}'"
    lead = "\n" if "\n" in text else ""
    ml_ok = not _has_control(text, allow_newline=True)
    if ml_ok and "\\" not in text and '"""' not in text and not text.endswith('"'):
        return f'"""{lead}{text}"""'
    if ml_ok and "'''" not in text and not text.endswith("'"):
        return f"'''{lead}{text}'''"
    out = []
    for ch in text:
        if ch in _ESCAPES and not (lead and ch == "\n"):
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    body = "".join(out)
    if lead:
        return f'"""{lead}{body}"""'
    return f'"{body}"'


def key(name: str) -> str:
    """A table or inline-table key: bare when it can be, else quoted."""
    if _BARE_KEY.fullmatch(name):
        return name
    return quote(name)


Value = str | int | bool | Sequence["Value"] | dict[str, "Value"]


def inline(value: object) -> str:
    """One value on one line: strings quoted, arrays ``[a, b]``, tables ``{ k = v }``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key(k)} = {inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into uv.lock")


def multiline(name: str, items: Iterable[object]) -> list[str]:
    """``name = [`` then one 4-space-indented element per line, each with a comma, then ``]``."""
    lines = [f"{key(name)} = ["]
    lines.extend(f"    {inline(item)}," for item in items)
    lines.append("]")
    return lines


def serde_array(name: str, items: Sequence[object]) -> list[str]:
    """uv's serde rule: at most one element on one line, more on several."""
    if len(items) <= 1:
        return [f"{key(name)} = {inline(list(items))}"]
    return multiline(name, items)
