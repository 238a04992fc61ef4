"""Printing a marker diagram the way uv 0.13 writes it in uv.lock.

uv walks the decision diagram, turns every path to ``true`` into a clause
(edges leading to the same child are merged first, so ``!=`` and ``.*`` forms
appear), removes terms and clauses made redundant by another clause, and sorts
terms and clauses by expression kind. Reproducing those steps, not just the
boolean function, is what makes ghostenv's uv.lock byte-identical to uv's.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from packaging.version import Version

from ghostenv.resolve import markers as m

__all__ = ["Term", "render", "to_dnf"]

# uv sorts terms by the expression's key in this order (MarkerValueString is alphabetical).
_KIND = {
    "implementation_version": (0, 0),
    "python_full_version": (0, 1),
    "implementation_name": (2, 0),
    "os_name": (2, 1),
    "platform_machine": (2, 2),
    "platform_python_implementation": (2, 3),
    "platform_release": (2, 4),
    "platform_system": (2, 5),
    "platform_version": (2, 6),
    "sys_platform": (2, 7),
    "extra": (4, 0),
}
_NEGATION = {
    "==": "!=",
    "!=": "==",
    "==*": "!=*",
    "!=*": "==*",
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "in": "not in",
    "not in": "in",
    "contains": "not contains",
    "not contains": "contains",
}


@dataclass(frozen=True, slots=True)
class Term:
    key: str
    op: str  # ==, !=, <, <=, >, >=, ==*, !=*, in, not in, contains, not contains
    value: Any  # Version for version keys, str otherwise

    @property
    def kind(self) -> tuple[int, int]:
        return _KIND[self.key]

    def negates(self, other: Term) -> bool:
        return (
            self.key == other.key and self.value == other.value and _NEGATION[self.op] == other.op
        )

    def __str__(self) -> str:
        if self.op in ("==*", "!=*"):
            return f"{self.key} {self.op[:2]} '{self.value}.*'"
        value = _quote(str(self.value))
        if self.op == "contains":
            return f"{value} in {self.key}"
        if self.op == "not contains":
            return f"{value} not in {self.key}"
        return f"{self.key} {self.op} {value}"


def _quote(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _key(var: m.Var) -> str:
    if var[0] == 0:
        return m.VERSION_KEYS[var[1]]
    if var[0] == 4:
        return "extra"
    return m.STRING_KEYS[var[1]]


def _inequality(ranges: list[m.Interval]) -> list[Any] | None:
    """Values excluded when ``ranges`` is everything except some points."""
    if not ranges or ranges[0][0] is not None or ranges[-1][1] is not None:
        return None
    excluded = []
    for left, right in pairwise(ranges):
        end, start = left[1], right[0]
        if end is None or start is None or end[1] or start[1] or end[0] != start[0]:
            return None
        excluded.append(end[0])
    return excluded


def _star_inequality(ranges: list[m.Interval]) -> Version | None:
    if len(ranges) != 2:
        return None
    (lo1, hi1), (lo2, hi2) = ranges
    if lo1 is not None or hi2 is not None or hi1 is None or lo2 is None:
        return None
    if hi1[1] or not lo2[1]:
        return None
    v1, v2 = hi1[0], lo2[0]
    if len(v1.release) == 2 and v2.release == (v1.release[0], v1.release[1] + 1):
        return v1  # type: ignore[no-any-return]
    return None


def _version_terms(key: str, interval: m.Interval) -> list[Term]:
    lo, hi = interval
    if lo is not None and hi is not None and lo[0] == hi[0] and lo[1] and hi[1]:
        return [Term(key, "==", lo[0])]
    if lo is not None and hi is not None and lo[1] and not hi[1]:
        trimmed = list(lo[0].release)
        while len(trimmed) > 1 and trimmed[-1] == 0:
            trimmed.pop()
        upper = hi[0].release
        if len(trimmed) == 1 and upper == (trimmed[0], 1):
            return [Term(key, "==*", Version(f"{trimmed[0]}.0"))]
        if len(trimmed) == 2 and upper == (trimmed[0], trimmed[1] + 1):
            return [Term(key, "==*", lo[0])]
    return _bound_terms(key, interval)


def _bound_terms(key: str, interval: m.Interval) -> list[Term]:
    lo, hi = interval
    if lo is not None and hi is not None and lo[0] == hi[0] and lo[1] and hi[1]:
        return [Term(key, "==", lo[0])]
    terms = []
    if lo is not None:
        terms.append(Term(key, ">=" if lo[1] else ">", lo[0]))
    if hi is not None:
        terms.append(Term(key, "<=" if hi[1] else "<", hi[0]))
    return terms


def _collect(node: int, path: list[Term], out: list[list[Term]]) -> None:
    if node == m.FALSE:
        return
    if node == m.TRUE:
        if path:
            out.append(list(path))
        return
    var, edges = m.node_table()[node]
    kind = var[0]
    if kind >= 2:
        high, low = edges
        terms: tuple[Term, Term]
        if kind == 4:
            terms = (Term("extra", "==", var[1]), Term("extra", "!=", var[1]))
        else:
            key = m.STRING_KEYS[var[1]]
            ops = ("in", "not in") if kind == 2 else ("contains", "not contains")
            terms = (Term(key, ops[0], var[2]), Term(key, ops[1], var[2]))
        for term, child in zip(terms, (high, low), strict=True):
            path.append(term)
            _collect(child, path, out)
            path.pop()
        return
    key = _key(var)
    groups: dict[int, list[m.Interval]] = {}
    for interval, child in edges:
        groups.setdefault(child, []).append(interval)
    for child, intervals in groups.items():
        ranges = m.ranges_union(intervals)
        excluded = _inequality(ranges)
        if excluded is not None:
            path.extend(Term(key, "!=", value) for value in excluded)
            _collect(child, path, out)
            del path[len(path) - len(excluded) :]
            continue
        if kind == 0:
            star = _star_inequality(ranges)
            if star is not None:
                path.append(Term(key, "!=*", star))
                _collect(child, path, out)
                path.pop()
                continue
        for interval in ranges:
            bounds = _version_terms(key, interval) if kind == 0 else _bound_terms(key, interval)
            path.extend(bounds)
            _collect(child, path, out)
            del path[len(path) - len(bounds) :]


def _simplify(dnf: list[list[Term]]) -> None:
    for i in range(len(dnf)):
        clause = dnf[i]
        redundant: list[int] = []
        for skipped_at, skipped in enumerate(clause):
            for j, other in enumerate(dnf):
                if i == j:
                    continue
                if all(_covered(term, skipped, clause, redundant) for term in other):
                    redundant.append(skipped_at)
                    break
        for at in sorted(redundant, reverse=True):
            del dnf[i][at]
    dropped: list[int] = []
    for i in range(len(dnf)):
        for j, other in enumerate(dnf):
            if i == j or j in dropped:
                continue
            if all(term in dnf[i] for term in other):
                dropped.append(i)
                break
    for i in reversed(dropped):
        del dnf[i]


def _covered(term: Term, skipped: Term, clause: list[Term], redundant: list[int]) -> bool:
    if term == skipped:
        return False
    if term.negates(skipped):
        return True
    try:
        at = clause.index(term)
    except ValueError:
        return False
    return at not in redundant


def _term_node(term: Term) -> int:
    var_key, op, value = term.key, term.op, term.value
    if var_key == "extra":
        return m._bool_node((4, value), op == "==")
    if var_key in m.VERSION_KEYS:
        if op in ("==*", "!=*"):
            return m._version_node(var_key, op[:2], f"{value}.*")
        return m._version_node(var_key, op, str(value))
    index = m.STRING_KEYS.index(var_key)
    if op in ("contains", "not contains"):
        return m._bool_node((3, index, value), op == "contains")
    return m._string_node(var_key, op, value)


def _drop_implied(node: int, dnf: list[list[Term]]) -> None:
    """Drop terms whose clause stays inside the marker without them.

    uv 0.13.9 prints ``(a and b) or c`` where the plain path walk gives
    ``(not-b-range and c) or (a and b) or (a and not b and c)``; dropping terms
    that the whole marker makes unnecessary (known-impossible pairs included)
    gets the same text.
    """
    outside = m._negate(node)
    for clause in dnf:
        at = 0
        while at < len(clause) and len(clause) > 1:
            rest = m.TRUE
            for other in clause[:at] + clause[at + 1 :]:
                rest = m._and(rest, _term_node(other))
            if m._and(rest, outside) == m.FALSE:
                del clause[at]
            else:
                at += 1
    unique: list[list[Term]] = []
    for clause in dnf:
        if clause not in unique:
            unique.append(clause)
    dnf[:] = unique


def to_dnf(node: int) -> list[list[Term]]:
    dnf: list[list[Term]] = []
    _collect(node, [], dnf)
    _simplify(dnf)
    _drop_implied(node, dnf)
    _simplify(dnf)
    for clause in dnf:
        clause.sort(key=lambda t: t.kind)
    dnf.sort(key=lambda clause: [t.kind for t in clause])
    return dnf


# A factored expression: a term, ("and", [parts]) or ("or", [parts]).
Expr = Any


def _factorable(term: Term, group: list[list[Term]]) -> str | None:
    """'first'/'last' when ``term`` sorts before/after every other term of its clauses."""
    others = [t.kind for clause in group for t in clause if t != term]
    if all(term.kind <= k for k in others):
        return "first"
    if all(term.kind >= k for k in others):
        return "last"
    return None


def _factor(clauses: list[list[Term]]) -> tuple[list[Expr], bool]:
    """uv 0.13.9 pulls a term shared by several clauses out in front of (or behind) them
    when it sorts before (after) everything else in those clauses: the most shared
    such term first; a group stays where its first clause was. Returns the
    disjuncts and whether anything was factored."""
    placed: dict[int, Expr] = {}
    rest = list(enumerate(clauses))
    factored = False
    while True:
        counts: dict[Term, int] = {}
        for _, clause in rest:
            for term in clause:
                counts[term] = counts.get(term, 0) + 1
        best = max(counts.values(), default=0)
        if best < 2:
            break
        chosen = None
        for term in dict.fromkeys(t for _, clause in rest for t in clause if counts[t] == best):
            group = [[t for t in clause if t != term] for _, clause in rest if term in clause]
            side = _factorable(term, group)
            if side is not None:
                chosen = (term, side)
                break
        if chosen is None:
            break
        term, side = chosen
        members = [(i, clause) for i, clause in rest if term in clause]
        inner, _ = _factor([[t for t in clause if t != term] for _, clause in members])
        inner_expr: Expr = inner[0] if len(inner) == 1 else ("or", inner)
        parts = [term, inner_expr] if side == "first" else [inner_expr, term]
        placed[members[0][0]] = ("and", parts)
        rest = [(i, clause) for i, clause in rest if term not in clause]
        factored = True
    for i, clause in rest:
        placed[i] = clause[0] if len(clause) == 1 else ("and", list(clause))
    return [placed[i] for i in sorted(placed)], factored


def _show(expr: Expr, *, top: bool = False) -> str:
    if isinstance(expr, Term):
        return str(expr)
    kind, parts = expr
    if kind == "and":
        shown = []
        for part in parts:
            if isinstance(part, tuple) and part[0] == "and":
                shown.append(_show(part))
            elif isinstance(part, tuple):
                shown.append(f"({_show(part)})")
            else:
                shown.append(str(part))
        return " and ".join(shown)
    items = []
    for part in parts:
        text = _show(part)
        nested_and = isinstance(part, tuple) and part[0] == "and"
        items.append(f"({text})" if nested_and and not top else text)
    return " or ".join(items)


def _and(terms: list[Term]) -> str:
    return " and ".join(map(str, terms))


def render(node: int) -> str:
    """uv's canonical text for a marker; "" when it is always true."""
    if node == m.TRUE:
        return ""
    if node == m.FALSE:
        return "python_version < '0'"
    dnf = to_dnf(node)
    if len(dnf) == 1:
        return _and(dnf[0])
    parts, factored = _factor(dnf)
    if not factored:
        return " or ".join(f"({_and(c)})" if len(c) > 1 else _and(c) for c in dnf)
    if len(parts) == 1:
        return _show(parts[0])
    return _show(("or", parts), top=True)
