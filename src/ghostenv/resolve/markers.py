"""Marker algebra for universal resolution: a reduced ordered decision diagram.

Universal resolution carries markers instead of evaluating them, so it needs
to answer "can these two conditions hold at once?", "is this always true?",
and to print a condition the way uv prints it (uv.lock is compared byte for
byte). Truth tables do not scale and packaging's ``Marker`` has no algebra, so
markers become decision diagrams: one node per variable, edges labelled with
disjoint ranges of that variable's values (PEP 440 versions for
``python_full_version``, strings for ``sys_platform`` and friends, booleans for
``extra``, ``in`` and ``contains`` tests). Nodes are interned and reduced, so a
function has exactly one diagram for the fixed variable order and equivalence
is identity.

The variable order, the ``python_version`` -> ``python_full_version`` and
``platform_system`` -> ``sys_platform`` rewrites and the known-impossible
pairs (``os_name == 'nt' and sys_platform == 'linux'``) follow uv 0.13, because
the printed form (paths of the diagram turned into DNF, then simplified and
sorted) depends on them. See ``ghostenv.resolve.universal_marker_text`` for printing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from ghostenv.resolve.universal_marker_ranges import (
    FALSE,
    FULL,
    STRING_KEYS,
    TRUE,
    VERSION_KEYS,
    Bound,
    Interval,
    Var,
    _adjacent,
    _edges_from,
    _intersect,
    _is_bool,
    _is_empty,
    _release,
    _start_key,
    ranges_complement,
    ranges_union,
    version_ranges,
)

__all__ = [
    "FALSE",
    "STRING_KEYS",
    "TRUE",
    "VERSION_KEYS",
    "Bound",
    "Interval",
    "MarkerTree",
    "Var",
    "normalize_marker",
    "parse_marker",
    "ranges_complement",
    "ranges_union",
    "version_ranges",
]

# -- the node table ------------------------------------------------------------
# node id -> (var, edges); for range variables edges is ((interval, child), ...) sorted by
# start, for boolean variables (high, low).
_NODES: list[tuple[Var, Any]] = [((-1,), None), ((-1,), None)]
_UNIQUE: dict[tuple[Var, Any], int] = {}
_AND: dict[tuple[int, int], int] = {}
_AND_RAW: dict[tuple[int, int], int] = {}
_NOT: dict[int, int] = {TRUE: FALSE, FALSE: TRUE}


def _node(var: Var, edges: Any) -> int:
    """Intern a node, merging adjacent equal edges and eliding a node with one outcome."""
    if _is_bool(var):
        high, low = edges
        if high == low:
            return int(high)
        key: tuple[Var, Any] = (var, (high, low))
    else:
        merged: list[tuple[Interval, int]] = []
        for interval, child in edges:
            if merged and merged[-1][1] == child and _adjacent(merged[-1][0], interval):
                merged[-1] = ((merged[-1][0][0], interval[1]), child)
            else:
                merged.append((interval, child))
        if all(child == merged[0][1] for _, child in merged):
            return merged[0][1]
        key = (var, tuple(merged))
    found = _UNIQUE.get(key)
    if found is None:
        found = _UNIQUE[key] = len(_NODES)
        _NODES.append(key)
    return found


def _children(node: int) -> list[int]:
    var, edges = _NODES[node]
    if _is_bool(var):
        return list(edges)
    return [child for _, child in edges]


def _map(node: int, f: Callable[[int], int]) -> int:
    var, edges = _NODES[node]
    if _is_bool(var):
        return _node(var, (f(edges[0]), f(edges[1])))
    return _node(var, tuple((interval, f(child)) for interval, child in edges))


def _apply(var: Var, left: Any, right: Any, f: Callable[[int, int], int]) -> int:
    if _is_bool(var):
        return _node(var, (f(left[0], right[0]), f(left[1], right[1])))
    combined: list[tuple[Interval, int]] = []
    for interval, child in left:
        for other, other_child in right:
            overlap = _intersect(interval, other)
            if not _is_empty(overlap):
                combined.append((overlap, f(child, other_child)))
    combined.sort(key=lambda e: _start_key(e[0][0]))
    return _node(var, tuple(combined))


def _negate(node: int) -> int:
    found = _NOT.get(node)
    if found is None:
        found = _NOT[node] = _map(node, _negate)
        _NOT[found] = node
    return found


def _and_raw(x: int, y: int) -> int:
    """Conjunction without the known-impossible pairs (used to build them)."""
    return _conj(x, y, _AND_RAW, checked=False)


def _or_raw(x: int, y: int) -> int:
    return _negate(_and_raw(_negate(x), _negate(y)))


def _and(x: int, y: int) -> int:
    return _conj(x, y, _AND, checked=True)


def _or(x: int, y: int) -> int:
    return _negate(_and(_negate(x), _negate(y)))


def _conj(x: int, y: int, memo: dict[tuple[int, int], int], *, checked: bool) -> int:
    if x == TRUE:
        return y
    if y in (TRUE, x):
        return x
    if FALSE in (x, y):
        return FALSE
    key = (x, y) if x < y else (y, x)
    found = memo.get(key)
    if found is not None:
        return found
    (xv, xe), (yv, ye) = _NODES[x], _NODES[y]

    def sub(a: int, b: int) -> int:
        return _conj(a, b, memo, checked=checked)

    if xv < yv:
        result = _map(x, lambda c: sub(c, y))
    elif yv < xv:
        result = _map(y, lambda c: sub(x, c))
    else:
        result = _apply(xv, xe, ye, sub)
    # uv knows some pairs never hold together (os_name == 'nt' on linux, ...).
    if (
        checked
        and result != FALSE
        and _conflicting(xv)
        and _conflicting(yv)
        and _and_raw(result, _negate(_exclusions())) == FALSE
    ):
        result = FALSE
    memo[key] = result
    return result


def _conflicting(var: Var) -> bool:
    """os_name, sys_platform and platform_system take part in known-impossible pairs."""
    return bool(var[0] == 1 and var[1] <= 2)


# -- restrictions ------------------------------------------------------------------
def _python_var() -> Var:
    return (0, 1)


def _simplify_python(node: int, allowed: Interval, memo: dict[int, int]) -> int:
    """uv's ``simplify_python_versions``: drop python ranges outside ``allowed`` and
    stretch the remaining outer edges to -inf/+inf (the bounds are known to hold)."""
    if node in (TRUE, FALSE):
        return node
    found = memo.get(node)
    if found is not None:
        return found
    var, edges = _NODES[node]
    if var != _python_var():
        result = _map(node, lambda c: _simplify_python(c, allowed, memo))
    else:
        kept = [
            (overlap, child)
            for interval, child in edges
            if not _is_empty(overlap := _intersect(interval, allowed))
        ]
        if not kept:
            result = FALSE
        else:
            kept[0] = ((None, kept[0][0][1]), kept[0][1])
            kept[-1] = ((kept[-1][0][0], None), kept[-1][1])
            result = _node(var, tuple(kept))
    memo[node] = result
    return result


def _restrict(value: int, assumption: int, memo: dict[tuple[int, int], int]) -> int:
    """``value`` where ``assumption`` holds; free to differ outside it (uv's ``restrict``)."""
    if assumption == TRUE or value in (TRUE, FALSE):
        return value
    if assumption == FALSE:
        return FALSE
    if value == assumption:
        return TRUE
    if value == _negate(assumption):
        return FALSE
    key = (value, assumption)
    found = memo.get(key)
    if found is not None:
        return found
    (vv, ve), (av, ae) = _NODES[value], _NODES[assumption]
    if vv < av:
        result = _map(value, lambda c: _restrict(c, assumption, memo))
    elif av < vv:
        quantified = FALSE
        for child in _children(assumption):
            quantified = _or_raw(quantified, child)
        result = _restrict(value, quantified, memo)
    else:
        result = _restrict_same(vv, ve, ae, memo)
    memo[key] = result
    return result


def _restrict_same(var: Var, ve: Any, ae: Any, memo: dict[tuple[int, int], int]) -> int:
    """Restrict a node by an assumption on the same variable: each branch keeps its value
    where the assumption holds, and takes an earlier branch's result when that agrees
    there (a branch the assumption rules out takes the first possible one)."""
    if _is_bool(var):
        pieces: list[tuple[Any, int, int]] = [(None, ve[0], ae[0]), (None, ve[1], ae[1])]
    else:
        pieces = []
        for interval, child in ve:
            for other, other_child in ae:
                overlap = _intersect(interval, other)
                if not _is_empty(overlap):
                    pieces.append((overlap, child, other_child))
        pieces.sort(key=lambda p: _start_key(p[0][0]))
    results = [None if a == FALSE else _restrict(v, a, memo) for _, v, a in pieces]
    possible = [r for r in results if r is not None]
    if not possible:
        return FALSE
    chosen = []
    for (_, _, a), mine in zip(pieces, results, strict=True):
        pick = possible[0] if mine is None else mine
        if mine is not None:
            target = _and(mine, a)
            for other in possible:
                if other == mine or _and(other, a) == target:
                    pick = other
                    break
        chosen.append(pick)
    if _is_bool(var):
        return _node(var, (chosen[0], chosen[1]))
    return _node(var, tuple((p[0], c) for p, c in zip(pieces, chosen, strict=True)))


def _evaluate(node: int, env: Mapping[str, str], extras: frozenset[str]) -> bool:
    while node not in (TRUE, FALSE):
        var, edges = _NODES[node]
        kind = var[0]
        if kind == 4:
            node = edges[0] if var[1] in extras else edges[1]
            continue
        if kind in (2, 3):
            actual = env.get(STRING_KEYS[var[1]], "")
            hit = actual in var[2] if kind == 2 else var[2] in actual
            node = edges[0] if hit else edges[1]
            continue
        raw = env.get(VERSION_KEYS[var[1]] if kind == 0 else STRING_KEYS[var[1]], "")
        value: Any = raw
        if kind == 0:
            try:
                value = _release(raw)
            except InvalidVersion:
                return False
        for interval, child in edges:
            if _contains(interval, value):
                node = child
                break
        else:  # pragma: no cover - edges cover the whole line
            return False
    return node == TRUE


def _contains(interval: Interval, value: Any) -> bool:
    lo, hi = interval
    if lo is not None and (value < lo[0] or (value == lo[0] and not lo[1])):
        return False
    return not (hi is not None and (value > hi[0] or (value == hi[0] and not hi[1])))


# -- the public value type -----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MarkerTree:
    """An immutable marker; equal functions are equal objects (same interned node)."""

    node: int

    @classmethod
    def true(cls) -> MarkerTree:
        return _TRUE_TREE

    @classmethod
    def false(cls) -> MarkerTree:
        return _FALSE_TREE

    @classmethod
    def python_range(cls, interval: Interval) -> MarkerTree:
        """``python_full_version`` inside ``interval``."""
        if interval == FULL:
            return _TRUE_TREE
        return cls(_node(_python_var(), _edges_from([interval])))

    @property
    def is_true(self) -> bool:
        return self.node == TRUE

    @property
    def is_false(self) -> bool:
        return self.node == FALSE

    def __and__(self, other: MarkerTree) -> MarkerTree:
        return MarkerTree(_and(self.node, other.node))

    def __or__(self, other: MarkerTree) -> MarkerTree:
        return MarkerTree(_or(self.node, other.node))

    def __invert__(self) -> MarkerTree:
        return MarkerTree(_negate(self.node))

    def is_disjoint(self, other: MarkerTree) -> bool:
        return _and(self.node, other.node) == FALSE

    def implies(self, other: MarkerTree) -> bool:
        return _and(self.node, _negate(other.node)) == FALSE

    def simplify_python(self, allowed: Interval) -> MarkerTree:
        """Assume python_full_version lies in ``allowed`` (requires-python)."""
        if allowed == FULL:
            return self
        return MarkerTree(_simplify_python(self.node, allowed, {}))

    def restrict(self, assumption: MarkerTree) -> MarkerTree:
        return MarkerTree(_restrict(self.node, assumption.node, {}))

    def with_extras(self, extras: Iterable[str] = ()) -> MarkerTree:
        """Fix extra variables: names in ``extras`` true, all other extras false."""
        return MarkerTree(_fix_extras(self.node, frozenset(extras), {}))

    def mentions_extra(self) -> bool:
        return _mentions(self.node, lambda var: var[0] == 4, set())

    def python_bounds(self) -> Interval:
        """The smallest python_full_version interval outside which the marker is false."""
        if self.node in (TRUE, FALSE):
            return FULL
        var, edges = _NODES[self.node]
        if var != _python_var():
            return FULL
        live = [interval for interval, child in edges if child != FALSE]
        return (live[0][0], live[-1][1])

    def evaluate(self, env: Mapping[str, str], extras: Iterable[str] = ()) -> bool:
        return _evaluate(self.node, env, frozenset(canonicalize_name(e) for e in extras))

    def __str__(self) -> str:
        from ghostenv.resolve.universal_marker_text import render

        return render(self.node)

    def __repr__(self) -> str:
        return f"MarkerTree({str(self) or 'true'!r})"


def _fix_extras(node: int, wanted: frozenset[str], memo: dict[int, int]) -> int:
    if node in (TRUE, FALSE):
        return node
    found = memo.get(node)
    if found is not None:
        return found
    var, edges = _NODES[node]
    if var[0] == 4:
        result = _fix_extras(edges[0] if var[1] in wanted else edges[1], wanted, memo)
    else:
        result = _map(node, lambda c: _fix_extras(c, wanted, memo))
    memo[node] = result
    return result


def _mentions(node: int, test: Callable[[Var], bool], seen: set[int]) -> bool:
    if node in (TRUE, FALSE) or node in seen:
        return False
    seen.add(node)
    var = _NODES[node][0]
    return test(var) or any(_mentions(c, test, seen) for c in _children(node))


_TRUE_TREE = MarkerTree(TRUE)
_FALSE_TREE = MarkerTree(FALSE)


@cache
def parse_marker(text: str | None) -> MarkerTree:
    """Parse PEP 508 marker text (None or "" = always true)."""
    if not text:
        return _TRUE_TREE
    return MarkerTree(_build(Marker(text)._markers))


def normalize_marker(text: str | None) -> str | None:
    """uv's canonical spelling of a marker (not simplified against requires-python);
    None when it always holds."""
    return str(parse_marker(text)) or None


def from_marker(marker: Marker | None) -> MarkerTree:
    return parse_marker(str(marker)) if marker is not None else _TRUE_TREE


def node_table() -> list[tuple[Var, Any]]:
    """The interned nodes (read-only use: rendering)."""
    return _NODES


# The builders live in their own module and use the primitives above.
from ghostenv.resolve.universal_marker_build import (  # noqa: E402
    _bool_node,
    _build,
    _exclusions,
    _string_node,
    _version_node,
)

__all__ += ["_bool_node", "_intersect", "_is_empty", "_string_node", "_version_node"]
