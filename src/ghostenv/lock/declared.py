"""The root package's ``[package.metadata]``: what pyproject.toml declares, as uv records it.

uv compares this table with the project on every ``--locked``/``--check`` (the
satisfies fast path), so it must hold the declared requirements faithfully:
``requires-dist`` (dependencies plus every optional dependency with
``extra == '<name>'`` appended to its marker), ``provides-extras`` in
declaration order, and ``requires-dev`` (every group, include-group expanded,
empty groups kept). Specifiers are sorted by (version, operator) and joined by
``","``; markers are written in uv's canonical spelling when
:mod:`ghostenv.resolve.markers` is available, else in a close approximation
(python_version spelled as python_full_version, single quotes) that means
the same, which is all uv's comparison needs (it normalizes both sides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ghostenv.errors import ProjectError
from ghostenv.lock.model import PackageMetadata, Requirement
from ghostenv.project.model import Project
from ghostenv.resolve.universal_marker_ranges import STRING_KEYS, SYSTEM_TO_PLATFORM, VERSION_KEYS

#: uv's order of marker variables (spec §7): versions before strings, extra last.
#: Built from the marker algebra's own key lists so the two cannot drift apart.
_VARIABLE_RANK = {
    name: i
    for i, name in enumerate((*VERSION_KEYS, "python_version", *STRING_KEYS, "extra"))
}


def normalize_marker(text: str) -> str | None:
    """``text`` in uv's spelling (None when always true).

    Uses H2's marker algebra (:mod:`ghostenv.resolve.markers`, uv's decision
    diagram and printer) when it is importable and copes with the marker, else
    the local approximation; both mean the same, which is what uv compares.
    """
    import importlib

    try:
        markers = importlib.import_module("ghostenv.resolve.markers")
        canonical = getattr(markers, "normalize_marker", None)
        if canonical is not None:
            out = canonical(text)
            return None if out is None else str(out)
        tree = markers.parse_marker(text)
        return None if tree.is_true() else str(tree)
    except Exception:  # the algebra is young; a marker it cannot print is still valid
        return _approximate(text)


def _python_atom(op: str, value: str) -> str:
    """``python_version <op> 'X.Y'`` as the python_full_version atom uv writes."""
    try:
        release = Version(value).release
    except InvalidVersion:
        return f"python_version {op} '{value}'"
    major, minor = release[0], release[1] if len(release) > 1 else 0
    nxt = f"{major}.{minor + 1}"
    here = f"{major}.{minor}"
    return {
        "<": f"python_full_version < '{here}'",
        ">=": f"python_full_version >= '{here}'",
        ">": f"python_full_version >= '{nxt}'",
        "<=": f"python_full_version < '{nxt}'",
        "==": f"python_full_version == '{here}.*'",
        "!=": f"python_full_version != '{here}.*'",
    }.get(op, f"python_version {op} '{value}'")


def _atom(item: tuple[object, object, object]) -> str:
    left, op, right = item
    lval, oval, rval = str(left), str(op), str(right)
    if type(left).__name__ == "Variable" and type(right).__name__ == "Value":
        if lval == "python_version" and oval in ("<", ">=", ">", "<=", "==", "!="):
            return _python_atom(oval, rval)
        if lval == "platform_system" and oval in ("==", "!=") and rval in SYSTEM_TO_PLATFORM:
            return f"sys_platform {oval} '{SYSTEM_TO_PLATFORM[rval]}'"
        if lval == "extra":
            rval = canonicalize_name(rval)
        quote = '"' if "'" in rval else "'"
        return f"{lval} {oval} {quote}{rval}{quote}"
    quote = '"' if "'" in lval else "'"
    return f"{quote}{lval}{quote} {oval} {rval}"


def _dnf(items: Sequence[object]) -> list[list[str]]:
    """packaging's parsed marker as a list of clauses (OR of ANDs of atoms)."""
    clauses: list[list[str]] = [[]]
    pending: list[list[list[str]]] = []
    for item in items:
        if item == "or":
            pending.append(clauses)
            clauses = [[]]
        elif item == "and":
            continue
        else:
            part = _dnf(item) if isinstance(item, list) else [[_atom(item)]]  # type: ignore[arg-type]
            clauses = [a + b for a in clauses for b in part]
    pending.append(clauses)
    return [clause for group in pending for clause in group]


def _kind(atom: str) -> int:
    head = atom.split(" ", 1)[0].strip("'\"")
    if atom.startswith(("'", '"')):
        head = atom.rsplit(" ", 1)[-1]
    return _VARIABLE_RANK.get(head, len(_VARIABLE_RANK))


def _approximate(text: str) -> str | None:
    """uv's shape without its solver: DNF, terms ordered by kind, ``extra`` last."""
    clauses = [sorted(dict.fromkeys(c), key=_kind) for c in _dnf(Marker(text)._markers)]
    unique = list(dict.fromkeys(tuple(c) for c in clauses if c))
    if not unique:
        return None
    if len(unique) == 1:
        return " and ".join(unique[0])
    return " or ".join(f"({' and '.join(c)})" if len(c) > 1 else c[0] for c in unique)


def _specifier(req: PepRequirement) -> str | None:
    specs = list(req.specifier)
    if not specs:
        return None

    def key(spec: object) -> tuple[Version, str]:
        version = str(getattr(spec, "version", "")).replace(".*", "")
        try:
            return (Version(version), str(getattr(spec, "operator", "")))
        except InvalidVersion:
            return (Version("0"), str(spec))

    return ",".join(str(s) for s in sorted(specs, key=key))


def requirement(req: PepRequirement, extra: str | None = None,
                order: dict[str, tuple[str, ...]] | None = None) -> Requirement:
    """One declared requirement as a ``requires-dist``/``requires-dev`` table.

    ``order`` maps ``str(req)`` to its extras in the order they were written
    (uv keeps that order; packaging's Requirement keeps only a set).
    """
    if req.url:
        raise ProjectError(
            f"`{req}`: direct URL requirements cannot be locked by ghostenv yet",
            hint="use `uv lock` for this project, or depend on a released version",
        )
    marker_text = str(req.marker) if req.marker is not None else None
    if extra is not None:
        tail = f"extra == '{extra}'"
        marker_text = f"({marker_text}) and {tail}" if marker_text else tail
    marker = normalize_marker(marker_text) if marker_text else None
    extras: tuple[str, ...] = tuple(sorted(canonicalize_name(e) for e in req.extras))
    written = (order or {}).get(str(req))
    if written is not None and sorted(written) == list(extras):
        extras = written
    return Requirement(
        name=canonicalize_name(req.name),
        extras=extras or None,
        marker=marker,
        specifier=_specifier(req),
    )


def _marker_key(marker: str | None) -> tuple[int, int, str]:
    if marker is None:
        return (0, 0, "")
    head = marker.lstrip("(").split(" ", 1)[0].strip("'\"")
    return (1, _VARIABLE_RANK.get(head, len(_VARIABLE_RANK)), marker)


#: uv-pep440's Operator enum order, which decides between two specifiers of one name.
_OPERATORS = ("==", "==*", "===", "!=", "!=*", "~=", "<", "<=", ">", ">=")
_PREFIXES = (">=", "<=", "===", "==", "!=", "~=", ">", "<")


def _specifier_key(text: str | None) -> tuple[tuple[int, Version], ...]:
    out = []
    for part in (text or "").split(","):
        op = next((o for o in _PREFIXES if part.startswith(o)), "")
        value = part[len(op):]
        if value.endswith(".*"):
            op, value = op + "*", value[:-2]
        try:
            out.append((_OPERATORS.index(op) if op in _OPERATORS else 99, Version(value)))
        except InvalidVersion:
            out.append((99, Version("0")))
    return tuple(out)


def sort_requirements(reqs: Iterable[Requirement]) -> tuple[Requirement, ...]:
    """uv's order: name, extras, groups, marker (its decision-diagram order, roughly), specifier."""
    return tuple(
        sorted(
            reqs,
            key=lambda r: (
                r.name.encode(),
                r.extras or (),
                r.groups or (),
                _marker_key(r.marker),
                _specifier_key(r.specifier),
            ),
        )
    )


_EXTRAS = re.compile(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]")


def extras_as_written(project: Project) -> dict[str, tuple[str, ...]]:
    """``str(requirement)`` -> its extras in declaration order, from pyproject.toml's text."""
    import tomllib

    try:
        doc = tomllib.loads(project.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    table = doc.get("project", {})
    raw: list[object] = list(table.get("dependencies", []) or [])
    for reqs in (table.get("optional-dependencies", {}) or {}).values():
        raw += list(reqs or [])
    for reqs in (doc.get("dependency-groups", {}) or {}).values():
        raw += list(reqs or [])
    out: dict[str, tuple[str, ...]] = {}
    for text in raw:
        if not isinstance(text, str):
            continue
        match = _EXTRAS.match(text)
        if match is None:
            continue
        try:
            key = str(PepRequirement(text))
        except InvalidRequirement:
            continue
        names = [canonicalize_name(e.strip()) for e in match.group(1).split(",") if e.strip()]
        out[key] = tuple(dict.fromkeys(names))
    return out


def root_metadata(project: Project) -> PackageMetadata:
    """``[package.metadata]`` of the project being locked."""
    order = extras_as_written(project)
    dist = [requirement(r, order=order) for r in project.dependencies]
    for extra, reqs in project.optional_dependencies:
        dist += [requirement(r, extra, order) for r in reqs]
    dev = tuple(
        (group, sort_requirements(requirement(r, order=order) for r in reqs))
        for group, reqs in sorted(project.groups)
    )
    return PackageMetadata(
        requires_dist=sort_requirements(dist),
        provides_extras=project.extras() or None,
        requires_dev=dev or None,
    )
