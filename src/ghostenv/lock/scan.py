"""Read the parts of a uv-written uv.lock that installing needs, with string methods only.

The frozen fast path (:mod:`ghostenv.workflow.frozen`) needs, per package, the
name, version, source, dependency edges (plain, optional, dev) and the wheels'
URLs and hashes -- not the metadata tables, the resolution markers or the
options. :mod:`ghostenv.lock.fast_toml` reads the whole document with regular
expressions, and compiling them costs more than this scan takes. uv writes the
file line by line in a fixed shape (one key per line, multi-line arrays with
one element per line, inline tables with ``key = value`` pairs separated by
``, ``), so :func:`scan` walks the lines and returns the same dicts tomllib
would for the keys it keeps. Anything off that shape -- a comment, an escape, a
multi-line string, an array written on one line where an edge list is
expected -- returns None and the caller reads the file with a real TOML parser.
Wheel entries are kept as their raw lines and read by :func:`artifact` only
for the packages being installed. ``tests/workflow/test_lock_scan.py`` compares
the result with tomllib's on every lock fixture.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: ``[[package]]`` keys kept (the others are skipped, arrays included).
_PACKAGE_KEYS = frozenset({"name", "version", "source"})
#: ``[[package]]`` keys holding arrays of inline tables, kept.
_PACKAGE_ARRAYS = frozenset({"dependencies", "wheels"})


class _Off(Exception):
    """The text is not in uv's shape here."""


def _string(line: str, i: int) -> tuple[str, int]:
    end = line.find('"', i + 1)
    if end < 0:
        raise _Off
    return line[i + 1:end], end + 1


def _value(line: str, i: int) -> tuple[Any, int]:
    char = line[i:i + 1]
    if char == '"':
        return _string(line, i)
    if char == "{":
        return _table(line, i)
    if char == "[":
        items: list[Any] = []
        i += 1
        if line.startswith("]", i):
            return items, i + 1
        while True:
            item, i = _value(line, i)
            items.append(item)
            if line.startswith(", ", i):
                i += 2
            elif line.startswith("]", i):
                return items, i + 1
            else:
                raise _Off
    end = i
    while end < len(line) and line[end].isdigit():
        end += 1
    if end > i and line[i].isascii():
        return int(line[i:end]), end
    if line.startswith("true", i):
        return True, i + 4
    if line.startswith("false", i):
        return False, i + 5
    raise _Off


def _table(line: str, i: int) -> tuple[dict[str, Any], int]:
    """The inline table starting at ``line[i] == "{"`` and the index after its ``}``."""
    table: dict[str, Any] = {}
    if line.startswith("{}", i):
        return table, i + 2
    i += 1
    while True:
        if not line.startswith(" ", i):
            raise _Off
        sep = line.find(" = ", i + 1)
        if sep < 0:
            raise _Off
        key = line[i + 1:sep]
        if not key or key in table or not key.replace("-", "").replace("_", "").isalnum():
            raise _Off
        table[key], i = _value(line, sep + 3)
        if line.startswith(", ", i):
            i += 1
            continue
        if line.startswith(" }", i):
            return table, i + 2
        raise _Off


def _element(line: str) -> dict[str, Any]:
    """One ``    { ... },`` line of a multi-line array of inline tables."""
    if not line.startswith("    {") or not line.endswith("},"):
        raise _Off
    table, end = _table(line, 4)
    if end != len(line) - 1:
        raise _Off
    return table


def artifact(line: str, *, whole: bool = False) -> dict[str, Any]:
    """A wheel entry kept raw by :func:`scan` (``    { url = "...", hash = "...", ... },``)
    as a table. The usual registry line gives ``url`` and ``hash`` by two ``find`` calls
    (size and upload time are not needed to choose and install); any other line, or
    ``whole``, is parsed entirely. Raises ValueError on a line that is not an inline table."""
    if not whole and line.startswith('    { url = "'):
        end = line.find('"', 13)
        if end > 0 and line.startswith('", hash = "', end):
            stop = line.find('"', end + 11)
            if stop > 0 and line.startswith((", ", " }"), stop + 1):
                return {"url": line[13:end], "hash": line[end + 11:stop]}
    try:
        return _element(line)
    except _Off:
        raise ValueError(f"not an inline table: {line!r}") from None


def scan(text: str) -> dict[str, Any] | None:
    """``version``, ``conflicts`` (presence), ``manifest.members`` and, per package, the
    keys the install needs -- as tomllib would give them -- or None when the text is not
    in the shape uv writes."""
    # (rfind: searching backwards for a three-quote run is ~2.5x faster than `in` on a
    # text full of '"': 0.25 vs 0.6 ms on a 460 kB lock)
    if "\\" in text or "\r" in text or text.rfind('"""') >= 0 or text.rfind("'''") >= 0:
        return None
    try:
        return _scan(text.split("\n"))
    except (_Off, ValueError, IndexError):
        return None


def _scan(lines: list[str]) -> dict[str, Any]:
    from itertools import repeat  # (here: a remembered selection reads pyproject.toml only)

    doc: dict[str, Any] = {}
    packages: list[dict[str, Any]] = []
    package: dict[str, Any] | None = None
    section = ""  # "", "package", "package.optional-dependencies", ..., or another table
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        i += 1
        if not line:
            continue
        if line[0] == "[":
            if line == "[[package]]":
                package = {}
                packages.append(package)
                section = "package"
            elif line.startswith("[["):
                if not line.endswith("]]") or line == "[[distribution]]":
                    raise _Off  # (the old name of [[package]]: leave it to the full reader)
                section = line  # [[manifest.dependency-metadata]] and the like: skipped
            elif not line.endswith("]"):
                raise _Off
            else:
                section = line[1:-1]
                if section.startswith("package.") and package is None:
                    raise _Off
                if section in ("package.optional-dependencies", "package.dev-dependencies"):
                    assert package is not None
                    key = section[len("package."):]
                    if key in package:
                        raise _Off
                    package[key] = {}
            continue
        if line[0] in " #]":
            raise _Off  # elements are consumed with their key; anything else is unexpected
        sep = line.find(" = ")
        if sep <= 0:
            raise _Off
        key, raw = line[:sep], line[sep + 3:]
        multi = raw in ("[", "[[")
        start = i
        if multi:  # the elements, up to the closing line (``]]`` for conflict sets)
            i = lines.index("]" if raw == "[" else "]]", i)  # (ValueError: none, declined)
            if not all(map(str.startswith, lines[start:i], repeat("    "))):
                raise _Off  # (map and all run in C: a lock is mostly such lines)
            i += 1
        if raw == "[[" and (section, key) != ("", "conflicts"):
            raise _Off
        if section == "package":
            assert package is not None
            if key in package:
                raise _Off
            if key in _PACKAGE_ARRAYS:
                if not multi:
                    if raw != "[]":
                        raise _Off
                    package[key] = []
                elif key == "wheels":  # read by artifact() for the packages installed
                    block = lines[start:i - 1]
                    if not (all(map(str.startswith, block, repeat("    {")))
                            and all(map(str.endswith, block, repeat("},")))):
                        raise _Off
                    package[key] = block
                else:
                    package[key] = [_element(e) for e in lines[start:i - 1]]
            elif key in _PACKAGE_KEYS:
                if multi:
                    raise _Off
                value, end = _value(raw, 0)
                if end != len(raw):
                    raise _Off
                package[key] = value
        elif section in ("package.optional-dependencies", "package.dev-dependencies"):
            assert package is not None
            groups = package[section[len("package."):]]
            if key in groups or not (multi or raw == "[]"):
                raise _Off
            groups[key] = [_element(e) for e in lines[start:i - 1]] if multi else []
        elif section == "" and key in ("version", "conflicts"):
            doc[key] = int(raw) if key == "version" else (multi or raw != "[]")
        elif section == "manifest" and key == "members":
            if not multi:
                raise _Off
            members = []
            for element in lines[start:i - 1]:
                if not element.endswith('",') or not element.startswith('    "'):
                    raise _Off
                members.append(element[5:-2])
            doc["manifest"] = {"members": members}
    doc["package"] = packages
    return doc


def scan_simple(text: str) -> dict[str, Any] | None:
    """A small, common TOML shape (a hand-written pyproject.toml) as tomllib reads it, or
    None: ``[table]``/``[[array]]`` headers of bare keys, ``key = value`` lines with bare
    keys, basic strings without escapes, literal strings, integers, booleans, inline
    tables and arrays (on one line, or a multi-line array of one-line values), spaces
    and tabs around them, whole-line and trailing comments. Anything else is left to
    tomllib (the caller's next step), so a file is never read differently."""
    if "\\" in text or "\r" in text or '"""' in text or "'''" in text or any(
            char in text for char in _CONTROL):
        return None  # (control characters: tomllib refuses them anywhere but as \t, \n)
    try:
        return _scan_simple(text.split("\n"))
    except (_Off, ValueError, IndexError):
        return None


_CONTROL = tuple(chr(c) for c in (*range(9), *range(11, 32), 127))


def _bare(key: str) -> str:
    if not key or not key.replace("-", "").replace("_", "").isalnum() or not key.isascii():
        raise _Off
    return key


def _skip(line: str, i: int) -> int:
    """The index of the first character at or after ``i`` that is not a space or tab."""
    n = len(line)
    while i < n and line[i] in " \t":
        i += 1
    return i


def _tail(line: str, i: int) -> None:
    """Nothing but blanks and a comment may follow a value."""
    i = _skip(line, i)
    if i < len(line) and line[i] != "#":
        raise _Off


def _loose(line: str, i: int) -> tuple[Any, int]:
    """The value at ``line[i]`` (blanks before it skipped) in the spellings people write."""
    i = _skip(line, i)
    char = line[i:i + 1]
    if char == "'":
        end = line.find("'", i + 1)
        if end < 0:
            raise _Off
        return line[i + 1:end], end + 1
    if char == "{":
        table: dict[str, Any] = {}
        i = _skip(line, i + 1)
        if line.startswith("}", i):
            return table, i + 1
        while True:
            sep = line.find("=", i)
            if sep < 0:
                raise _Off
            key = _bare(line[i:sep].rstrip(" \t"))
            if key in table:
                raise _Off
            table[key], i = _loose(line, sep + 1)
            i = _skip(line, i)
            if line.startswith(",", i):
                i = _skip(line, i + 1)
            elif line.startswith("}", i):
                return table, i + 1
            else:
                raise _Off
    if char == "[":
        items: list[Any] = []
        i = _skip(line, i + 1)
        while not line.startswith("]", i):
            item, i = _loose(line, i)
            items.append(item)
            i = _skip(line, i)
            if line.startswith(",", i):
                i = _skip(line, i + 1)
            elif not line.startswith("]", i):
                raise _Off
        return items, i + 1
    if char == '"':
        return _string(line, i)
    return _value(line, i)


def _scan_simple(lines: list[str]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    table = root
    defined: set[tuple[str, ...]] = set()
    static: set[int] = set()  # ids of tables and arrays given as values: no header extends them
    i, n = 0, len(lines)
    while i < n:
        line = lines[i].strip(" \t")
        i += 1
        if not line or line[0] == "#":
            continue
        if line[0] == "[":
            array = line.startswith("[[")
            inner = line[2:-2] if array else line[1:-1]
            if not line.endswith("]]" if array else "]") or (not array and inner.endswith("]")):
                raise _Off
            path = tuple(_bare(part) for part in inner.split("."))
            table = root
            for part in path[:-1]:
                child = table.setdefault(part, {})
                if id(child) in static:
                    raise _Off
                if isinstance(child, list):
                    child = child[-1]
                if not isinstance(child, dict):
                    raise _Off
                table = child
            if array:
                items = table.setdefault(path[-1], [])
                if not isinstance(items, list) or id(items) in static:
                    raise _Off
                items.append({})
                table = items[-1]
            else:
                if (path in defined or not isinstance(table.get(path[-1], {}), dict)
                        or id(table.get(path[-1])) in static):
                    raise _Off
                defined.add(path)
                table = table.setdefault(path[-1], {})
            continue
        sep = line.find("=")
        if sep <= 0:
            raise _Off
        key, raw = _bare(line[:sep].rstrip(" \t")), line[sep + 1:].lstrip(" \t")
        if key in table:
            raise _Off
        if raw.startswith("[") and _skip(raw, 1) in (len(raw), raw.find("#")):
            items = []  # a multi-line array: values (and comments) up to a line "]"
            while True:
                element = lines[i].strip(" \t")
                i += 1
                if element == "]":
                    break
                if not element or element[0] == "#":
                    continue
                at = 0
                while at < len(element) and element[at] != "#":
                    value, at = _loose(element, at)
                    items.append(value)
                    at = _skip(element, at)
                    if element.startswith(",", at):
                        at = _skip(element, at + 1)
                    elif lines[i].strip(" \t") == "]":
                        _tail(element, at)  # the last value needs no comma
                        break
                    else:
                        raise _Off
            table[key] = items
            static.add(id(items))
        else:
            value, end = _loose(raw, 0)
            _tail(raw, end)
            table[key] = value
            if isinstance(value, (dict, list)):
                static.add(id(value))
    return root
