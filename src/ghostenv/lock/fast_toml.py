"""A fast parser for the TOML subset uv writes, falling back to tomllib for everything else.

tomllib reads strings one character at a time in Python, which is most of the
110-220 ms a 1 MB lock costs. uv's own output is very regular (spec §2): one
``key = value`` per line, table headers, multi-line arrays with one element per
line, inline tables, basic strings without escapes, literal strings, integers
and booleans. This module reads exactly that with a handful of compiled regular
expressions and returns the same dict tomllib would. The moment it meets
anything else (a comment, an escape, a multi-line string, a float or date, a
duplicate key, CRLF) it gives up and returns None, and the caller uses tomllib,
so unusual but valid files still read and invalid ones still get tomllib's
error message. uv does the same (a canonical fast path with a TOML fallback).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from typing import Any

_TOKEN = re.compile(
    r""" *(?:"([^"\\\x00-\x08\x0a-\x1f\x7f]*)"(?!")"""  # 1 basic string, no escapes
    r"""|'([^'\x00-\x08\x0a-\x1f\x7f]*)'(?!')"""  # 2 literal string
    r"""|([{}\[\],])"""  # 3 punctuation
    r"""|([A-Za-z0-9_-]+) = """  # 4 bare key inside an inline table
    r"""|(-?(?:0|[1-9][0-9]*))(?![0-9A-Za-z_.:+-])"""  # 5 integer
    r"""|(true|false)(?![A-Za-z0-9_-]))"""  # 6 boolean
)
# The commonest line by far: a registry wheel or sdist entry.
_ARTIFACT = re.compile(
    r'\{ url = "([^"\\\x00-\x1f\x7f]*)", hash = "([^"\\\x00-\x1f\x7f]*)"'
    r'(?:, size = (0|[1-9][0-9]*))?(?:, upload-time = "([^"\\\x00-\x1f\x7f]*)")? \}'
)
_KEY_LINE = re.compile(r"([A-Za-z0-9_-]+) = (.*)")
_HEADER = re.compile(r"(\[\[?)([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)(\]\]?)")


class _NotCanonical(Exception):
    """Raised internally: leave this text to tomllib."""


def _tokens(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pos = 0
    end = len(text.rstrip(" "))
    for match in _TOKEN.finditer(text, 0, end):
        if match.start() != pos:
            raise _NotCanonical
        pos = match.end()
        kind = match.lastindex or 0
        out.append((kind, match.group(kind)))
    if pos != end:
        raise _NotCanonical
    return out


def _value(tokens: list[tuple[int, str]], i: int) -> tuple[Any, int]:
    kind, text = tokens[i]
    if kind in (1, 2):
        return text, i + 1
    if kind == 5:
        return int(text), i + 1
    if kind == 6:
        return text == "true", i + 1
    if kind == 3 and text == "{":
        table: dict[str, Any] = {}
        i += 1
        if tokens[i] == (3, "}"):
            return table, i + 1
        while True:
            key_kind, key = tokens[i]
            if key_kind != 4 or key in table:
                raise _NotCanonical
            table[key], i = _value(tokens, i + 1)
            sep = tokens[i]
            if sep == (3, "}"):
                return table, i + 1
            if sep != (3, ","):
                raise _NotCanonical
            i += 1
    if kind == 3 and text == "[":
        items: list[Any] = []
        i += 1
        if tokens[i] == (3, "]"):
            return items, i + 1
        while True:
            item, i = _value(tokens, i)
            items.append(item)
            sep = tokens[i]
            if sep == (3, "]"):
                return items, i + 1
            if sep != (3, ","):
                raise _NotCanonical
            i += 1
            if tokens[i] == (3, "]"):  # trailing comma
                return items, i + 1
    raise _NotCanonical


def _single(text: str) -> Any:
    if text.startswith("{ url = "):
        match = _ARTIFACT.fullmatch(text)
        if match is not None:
            url, digest, size, uploaded = match.groups()
            table: dict[str, Any] = {"url": url, "hash": digest}
            if size is not None:
                table["size"] = int(size)
            if uploaded is not None:
                table["upload-time"] = uploaded
            return table
    tokens = _tokens(text)
    if not tokens:
        raise _NotCanonical
    tokens.append((0, ""))
    try:
        value, i = _value(tokens, 0)
    except IndexError as exc:
        raise _NotCanonical from exc
    if i != len(tokens) - 1:
        raise _NotCanonical
    return value


def _open(root: dict[str, Any], path: list[str], array: bool) -> dict[str, Any]:
    """The table a ``[a.b]`` / ``[[a.b]]`` header starts (uv never reopens a table)."""
    node = root
    for part in path[:-1]:
        child = node.setdefault(part, {})
        if isinstance(child, list):
            if not child or not isinstance(child[-1], dict):
                raise _NotCanonical
            child = child[-1]
        if not isinstance(child, dict):
            raise _NotCanonical
        node = child
    last = path[-1]
    table: dict[str, Any] = {}
    if array:
        existing = node.setdefault(last, [])
        if not isinstance(existing, list) or (existing and not isinstance(existing[-1], dict)):
            raise _NotCanonical
        existing.append(table)
    else:
        if last in node:
            raise _NotCanonical
        node[last] = table
    return table


def parse_canonical(text: str) -> dict[str, Any] | None:
    """The TOML document ``text`` as tomllib would return it, or None if it is not uv-shaped."""
    if "\r" in text or '"""' in text or "'''" in text:
        return None
    try:
        return _parse(text)
    except _NotCanonical:
        return None


def _parse(text: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    table = root
    lines = text.split("\n")
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        i += 1
        if not line:
            continue
        if line[0] == "[":
            match = _HEADER.fullmatch(line)
            if match is None or len(match.group(1)) != len(match.group(3)):
                raise _NotCanonical
            table = _open(root, match.group(2).split("."), match.group(1) == "[[")
            continue
        match = _KEY_LINE.fullmatch(line)
        if match is None:
            raise _NotCanonical
        key, raw = match.groups()
        if key in table:
            raise _NotCanonical
        if raw == "[":
            items = []
            while True:
                if i >= n:
                    raise _NotCanonical
                element = lines[i]
                i += 1
                if element == "]":
                    break
                if not element.startswith("    ") or not element.endswith(","):
                    raise _NotCanonical
                items.append(_single(element[4:-1]))
            table[key] = items
        else:
            table[key] = _single(raw)
    return root
