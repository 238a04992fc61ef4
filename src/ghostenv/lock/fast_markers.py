"""Evaluate environment markers for one interpreter without importing packaging.

``packaging.markers`` costs ~20 ms to import (its tokenizer and the specifier
module compile some thirty regular expressions), more than the rest of a frozen
sync's start-up. uv.lock markers are few and plain -- uv writes them normalized:
canonical variable names, single quotes, release-only versions such as
``python_full_version >= '3.10'`` -- so :func:`evaluate` handles that subset
with string operations and gives exactly what ``Marker(text).evaluate(env)``
gives (with ``extra`` in ``env``, as the full sync evaluates them). Anything
outside the subset raises :class:`Unsupported` -- an alias such as ``os.name``,
a version with a pre-release, local or epoch part, ``===``, a set-valued
variable, a marker packaging would reject or raise on -- and the caller takes
the full path, which uses packaging. ``tests/workflow/test_fast_markers.py``
compares the two on every marker of the lock fixtures and on generated ones.

Like packaging, every comparison of a marker is evaluated (no short circuit),
so a marker that packaging would raise on is never answered here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

#: Variables compared as PEP 440 versions when the other side is a version.
VERSION_KEYS = frozenset({"implementation_version", "platform_release", "python_full_version",
                          "python_version"})
#: Variables compared as plain strings.
STRING_KEYS = frozenset({"implementation_name", "os_name", "platform_machine",
                         "platform_python_implementation", "platform_system",
                         "platform_version", "sys_platform", "extra"})
_OPERATORS = ("===", "==", "~=", "!=", "<=", ">=", "<", ">")

Atom = tuple[str, str, str, bool]
"""(variable, operator, literal, variable_on_the_left)."""
Tree = list["Atom | str | Tree"]
"""Atoms and sub-trees separated by ``"and"`` / ``"or"`` (as packaging's marker lists)."""

_parsed: dict[str, Tree] = {}


class Unsupported(Exception):
    """This marker (or this environment) is outside the subset: use packaging."""


def canonical_name(name: str) -> str:
    """PEP 503 normalization (``Foo.Bar_baz`` -> ``foo-bar-baz``), as packaging does it."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def _tokens(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` pairs: kinds ``(``, ``)``, ``bool``, ``op``, ``var``, ``str``."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == " ":
            i += 1
        elif char in "()":
            out.append((char, char))
            i += 1
        elif char in "'\"":
            end = text.find(char, i + 1)
            if end < 0:
                raise Unsupported(text)
            out.append(("str", text[i + 1:end]))
            i = end + 1
        elif char in "=~!<>":
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                raise Unsupported(text)
            out.append(("op", op))
            i += len(op)
        else:
            j = i
            while j < n and (text[j].isascii() and (text[j].isalnum() or text[j] == "_")):
                j += 1
            word = text[i:j]
            if word in ("and", "or"):
                out.append(("bool", word))
            elif word == "in":
                out.append(("op", "in"))
            elif word == "not":
                k = j
                while k < n and text[k] == " ":
                    k += 1
                if k == j or not text.startswith("in", k) or (
                        k + 2 < n and (text[k + 2].isalnum() or text[k + 2] == "_")):
                    raise Unsupported(text)
                out.append(("op", "not in"))
                j = k + 2
            elif word in VERSION_KEYS or word in STRING_KEYS:
                out.append(("var", word))
            else:
                raise Unsupported(text)  # an alias, a set variable, or not a marker
            i = j
    return out


def parse(text: str) -> Tree:
    """The marker as a tree (cached), or :class:`Unsupported`."""
    tree = _parsed.get(text)
    if tree is None:
        tokens = _tokens(text)
        tree, end = _expression(tokens, 0)
        if end != len(tokens):
            raise Unsupported(text)
        _parsed[text] = tree
    return tree


def _expression(tokens: list[tuple[str, str]], i: int) -> tuple[Tree, int]:
    tree: Tree = []
    while True:
        if i >= len(tokens):
            raise Unsupported("marker ends early")
        kind, _text = tokens[i]
        if kind == "(":
            inner, i = _expression(tokens, i + 1)
            if i >= len(tokens) or tokens[i][0] != ")":
                raise Unsupported("unbalanced parenthesis")
            tree.append(inner)
            i += 1
        else:
            if i + 3 > len(tokens):
                raise Unsupported("marker ends early")
            (lkind, left), (okind, op), (rkind, right) = tokens[i:i + 3]
            if okind != "op":
                raise Unsupported("expected an operator")
            if lkind == "var" and rkind == "str":
                tree.append((left, op, right, True))
            elif lkind == "str" and rkind == "var":
                tree.append((right, op, left, False))
            else:
                raise Unsupported("a comparison needs one variable and one string")
            i += 3
        if i < len(tokens) and tokens[i][0] == "bool":
            tree.append(tokens[i][1])
            i += 1
            continue
        return tree, i


def _release(text: str) -> tuple[int, ...]:
    """``3.10.1`` -> (3, 10, 1); anything but ASCII digits and dots is unsupported."""
    parts = text.split(".")
    for part in parts:
        if not part or not part.isascii() or not part.isdigit():
            raise Unsupported(text)
    return tuple(int(p) for p in parts)


def _strip(release: tuple[int, ...]) -> tuple[int, ...]:
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return release[:end]


def _prefix_match(candidate: tuple[int, ...], prefix: tuple[int, ...]) -> bool:
    padded = candidate + (0,) * (len(prefix) - len(candidate))
    return padded[:len(prefix)] == prefix


def version_compare(candidate: str, op: str, spec: str) -> bool:
    """Whether ``candidate`` is in the specifier ``op spec`` (release-only versions)."""
    have = _release(candidate)
    if spec.endswith(".*"):
        if op not in ("==", "!="):
            raise Unsupported(spec)
        match = _prefix_match(have, _release(spec[:-2]))
        return match if op == "==" else not match
    want = _release(spec)
    a, b = _strip(have), _strip(want)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "~=" and len(want) >= 2:
        return a >= b and _prefix_match(have, want[:-1])
    raise Unsupported(op + spec)


def _compare(lhs: str, op: str, rhs: str, key: str) -> bool:
    """packaging's ``_eval_op``: a version comparison when the key holds a version,
    else string operators (``<``/``>`` are false, ``<=``/``>=`` mean equal)."""
    if op in ("in", "not in"):
        return (lhs in rhs) == (op == "in")
    if key in VERSION_KEYS:
        return version_compare(lhs, op, rhs)
    if op in ("==", "<=", ">="):
        return lhs == rhs
    if op == "!=":
        return lhs != rhs
    if op in ("<", ">"):
        return False
    raise Unsupported(op)  # ~= and === on strings: packaging raises


def _evaluate(tree: Tree, env: Mapping[str, str]) -> bool:
    groups: list[list[bool]] = [[]]
    for item in tree:
        if isinstance(item, list):
            groups[-1].append(_evaluate(item, env))
        elif isinstance(item, tuple):
            key, op, literal, var_left = item
            value = env.get(key)
            if value is None:
                raise Unsupported(key)
            if key == "extra":
                literal = canonical_name(literal)
                value = canonical_name(value) if value else ""
            lhs, rhs = (value, literal) if var_left else (literal, value)
            groups[-1].append(_compare(lhs, op, rhs, key))
        elif item == "or":
            groups.append([])
    return any(all(group) for group in groups)


def evaluate(marker: str, env: Mapping[str, str]) -> bool:
    """``Marker(marker).evaluate(env)`` for the supported subset, else :class:`Unsupported`.

    ``env`` must hold every variable the marker names (a probe's marker
    environment plus ``extra``).
    """
    return _evaluate(parse(marker), env)
