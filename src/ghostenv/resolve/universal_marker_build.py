"""Building marker diagrams from PEP 508 text, with uv's rewrites and known-impossible pairs.

Split out of ``markers.py``. Uses the diagram primitives through the module
object (``core``) because ``markers`` imports this module back for parsing.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from packaging.utils import canonicalize_name

from ghostenv.resolve import markers as core
from ghostenv.resolve.universal_marker_ranges import (
    FALSE,
    MARKER_ALIASES,
    STRING_KEYS,
    SYSTEM_TO_PLATFORM,
    TRUE,
    VERSION_KEYS,
    Interval,
    Var,
    _edges_from,
    _release,
    ranges_complement,
    version_ranges,
)


# -- expressions -----------------------------------------------------------------
def _string_node(key: str, op: str, value: str) -> int:
    if key == "platform_system" and value in SYSTEM_TO_PLATFORM:
        key, value = "sys_platform", SYSTEM_TO_PLATFORM[value]
    index = STRING_KEYS.index(key)
    var = (1, index)
    if op in ("in", "not in"):
        return _bool_node((2, index, value), op == "in")
    ordered = key in ("platform_release", "platform_version")
    true: list[Interval]
    if op == "==":
        true = [((value, True), (value, True))]
    elif op == "!=":
        true = ranges_complement([((value, True), (value, True))])
    elif op in (">", "<") and not ordered:
        true = []
    elif op in (">=", "<=") and not ordered:
        true = [((value, True), (value, True))]
    elif op == ">":
        true = [((value, False), None)]
    elif op == ">=":
        true = [((value, True), None)]
    elif op == "<":
        true = [(None, (value, False))]
    elif op == "<=":
        true = [(None, (value, True))]
    else:  # "~=" and "===" on strings: uv ignores them
        return TRUE
    if not true:
        return FALSE
    return core._node(var, _edges_from(true))


def _bool_node(var: Var, value: bool) -> int:
    return core._node(var, (TRUE, FALSE) if value else (FALSE, TRUE))


def _python_version_node(op: str, text: str) -> int:
    """``python_version`` (X.Y) rewritten over ``python_full_version``, as uv does."""
    if "*" in text or op == "~=":
        return _version_node("python_full_version", op, text)
    release = list(_release(text).release)
    if len(release) > 2:
        # python_version never has a third segment: == is impossible, != always true.
        nxt = f"{release[0]}.{release[1] + 1}"
        if op in ("==", "==="):
            return FALSE
        if op == "!=":
            return TRUE
        return _version_node("python_full_version", "<" if op in ("<", "<=") else ">=", nxt)
    major, minor = [*release, 0][:2]
    rewritten = {
        "==": ("==", f"{major}.{minor}.*"),
        "===": ("==", f"{major}.{minor}.*"),
        "!=": ("!=", f"{major}.{minor}.*"),
        ">": (">=", f"{major}.{minor + 1}"),
        "<=": ("<", f"{major}.{minor + 1}"),
    }
    new_op, new_text = rewritten.get(op, (op, text))
    return _version_node("python_full_version", new_op, new_text)


def _version_node(key: str, op: str, text: str) -> int:
    return core._node((0, VERSION_KEYS.index(key)), _edges_from(version_ranges(op, text)))


_FLIP = {
    "<": ">",
    ">": "<",
    "<=": ">=",
    ">=": "<=",
    "==": "==",
    "!=": "!=",
    "~=": "~=",
    "===": "===",
}


def _expression(lhs: Any, op: str, rhs: Any) -> int:
    left_is_var = type(lhs).__name__ == "Variable"
    right_is_var = type(rhs).__name__ == "Variable"
    if left_is_var and right_is_var:
        raise ValueError("a marker compares two variables")
    if op in ("in", "not in") and right_is_var:
        # '<value>' in <key>: the "contains" test
        key = MARKER_ALIASES.get(rhs.value, rhs.value)
        if key in STRING_KEYS:
            return _bool_node((3, STRING_KEYS.index(key), lhs.value), op == "in")
        raise ValueError(f"unsupported marker: {lhs.value!r} {op} {key}")
    if right_is_var:
        lhs, rhs, op = rhs, lhs, _FLIP[op]
    key = MARKER_ALIASES.get(lhs.value, lhs.value)
    value = str(rhs.value)
    if key == "extra":
        try:
            name = canonicalize_name(value, validate=True)
        except Exception:
            return FALSE
        if op == "==":
            return _bool_node((4, name), True)
        if op == "!=":
            return _bool_node((4, name), False)
        return FALSE
    if key == "python_version":
        if op in ("in", "not in"):
            nodes = [_python_version_node("==", v) for v in value.split()]
            node = FALSE
            for n in nodes:
                node = core._or_raw(node, n)
            return node if op == "in" else core._negate(node)
        return _python_version_node(op, value)
    if key in VERSION_KEYS:
        if op in ("in", "not in"):
            node = FALSE
            for v in value.split():
                node = core._or_raw(node, _version_node(key, "==", v))
            return node if op == "in" else core._negate(node)
        return _version_node(key, op, value)
    if key in STRING_KEYS:
        return _string_node(key, op, value)
    raise ValueError(f"unknown marker variable {key}")


def _build(items: Any) -> int:
    """packaging's parsed marker list: items joined by 'and'/'or', 'and' binding tighter."""
    if isinstance(items, tuple):
        lhs, op, rhs = items
        return _expression(lhs, op.value, rhs)
    groups: list[int] = []
    current = TRUE
    for item in items:
        if item == "or":
            groups.append(current)
            current = TRUE
        elif item == "and":
            continue
        else:
            current = core._and(current, _build(item))
    groups.append(current)
    result = FALSE
    for group in groups:
        result = core._or(result, group)
    return result


# -- known-impossible combinations (uv's "exclusions") ---------------------------
@cache
def _exclusions() -> int:
    def eq(key: str, value: str) -> int:
        return _string_node(key, "==", value)

    pairs = [
        (eq("os_name", "nt"), eq("sys_platform", "linux")),
        (eq("os_name", "nt"), eq("sys_platform", "darwin")),
        (eq("os_name", "nt"), eq("sys_platform", "ios")),
        (eq("os_name", "posix"), eq("sys_platform", "win32")),
    ]
    systems = ["FreeBSD", "NetBSD", "OpenBSD", "SunOS", "iOS", "iPadOS"]
    platforms = [
        "aix",
        "android",
        "emscripten",
        "ios",
        "linux",
        "darwin",
        "win32",
        "cygwin",
        "wasi",
    ]
    for system in systems:
        for platform in platforms:
            if platform == "ios" and system in ("iOS", "iPadOS"):
                continue
            pairs.append((eq("platform_system", system), eq("sys_platform", platform)))
    tree = FALSE
    for a, b in pairs:
        tree = core._or_raw(tree, core._and_raw(a, b))
    return tree
