"""Export a lock as a hash-pinned requirements.txt, for pip users and CI.

The lock is a graph whose edges carry markers. A package is needed under the
disjunction, over every path from the project root, of the conjunction of the
edge markers on that path. We compute that as sets of conjunctions (absorbing
supersets, so an unconditional path wins) and write it as the package's marker,
without simplifying: pip evaluates it the same either way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from ghostenv.errors import LockError
from ghostenv.lock.model import Dependency, Lock, Package

PackageId = tuple[str, str | None, tuple[str, str, str | None]]
Clause = frozenset[str]
"""A conjunction of edge markers; the empty clause is ``true``."""


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to include: extras and groups of the root project(s), hashes or not."""

    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ("dev",)
    all_groups: bool = False
    hashes: bool = True
    include_project: bool = False


def _pid(p: Package) -> PackageId:
    return (p.name, p.version, (p.source.kind, p.source.value, p.source.subdirectory))


def _dep_pid(d: Dependency) -> PackageId:
    if d.source is None:
        raise LockError(f"uv.lock: dependency `{d.name}` is not linked to a package")
    return (d.name, d.version, (d.source.kind, d.source.value, d.source.subdirectory))


def _absorb(clauses: set[Clause]) -> set[Clause]:
    return {c for c in clauses if not any(o < c for o in clauses)}


def roots(lock: Lock, project: str | None = None) -> tuple[Package, ...]:
    """The packages the export starts from: the named project, else workspace members."""
    local = [p for p in lock.packages if p.source.kind in ("virtual", "editable")]
    if project is not None:
        found = tuple(p for p in local if p.name == project)
        if not found:
            raise LockError(f"uv.lock: project `{project}` is not in the lock")
        return found
    if lock.manifest is not None and lock.manifest.members:
        return tuple(p for p in local if p.name in lock.manifest.members)
    editable_roots = [p for p in local if p.source.value in (".", "")]
    return tuple(editable_roots or local[:1])


def needed(
    lock: Lock, options: ExportOptions, project: str | None = None
) -> dict[PackageId, set[Clause]]:
    """Every package reachable from the roots, with the clauses under which it is needed."""
    by_id = {_pid(p): p for p in lock.packages}
    reach: dict[tuple[PackageId, str | None], set[Clause]] = {}
    queue: deque[tuple[PackageId, str | None]] = deque()

    def add(node: tuple[PackageId, str | None], clauses: Iterable[Clause]) -> None:
        have = reach.setdefault(node, set())
        merged = _absorb(have | set(clauses))
        if merged != have:
            reach[node] = merged
            queue.append(node)

    for root in roots(lock, project):
        start: Clause = frozenset()
        add((_pid(root), None), [start])
        extras = (
            [e for e, _ in root.optional_dependencies] if options.all_extras else options.extras
        )
        for extra in extras:
            add((_pid(root), f"extra:{extra}"), [start])
        groups = [g for g, _ in root.dev_dependencies] if options.all_groups else options.groups
        for group in groups:
            add((_pid(root), f"group:{group}"), [start])

    while queue:
        node = queue.popleft()
        pid, part = node
        package = by_id[pid]
        if part is None:
            edges: tuple[Dependency, ...] = package.dependencies
        elif part.startswith("extra:"):
            edges = dict(package.optional_dependencies).get(part[6:], ())
        else:
            edges = dict(package.dev_dependencies).get(part[6:], ())
        for dep in edges:
            here = reach[node]
            clauses = [c | {dep.marker} if dep.marker else c for c in here]
            target = _dep_pid(dep)
            add((target, None), clauses)
            for extra in dep.extra:
                add((target, f"extra:{extra}"), clauses)

    out: dict[PackageId, set[Clause]] = {}
    for (pid, _part), found in reach.items():
        out[pid] = _absorb(out.get(pid, set()) | found)
    return out


def select_packages(
    lock: Lock, options: ExportOptions, environment: dict[str, str], project: str | None = None
) -> list[Package]:
    """The packages to install for a target whose marker environment is ``environment``.

    A package is selected when some clause of :func:`needed` holds; the roots
    (the project itself) and virtual packages are left out, as for the export.
    """
    from packaging.markers import Marker

    env = {**environment, "extra": ""}
    seen: dict[str, bool] = {}

    def holds(marker: str) -> bool:
        if marker not in seen:
            seen[marker] = Marker(marker).evaluate(env)
        return seen[marker]

    by_id = {_pid(p): p for p in lock.packages}
    root_ids = {_pid(p) for p in roots(lock, project)}
    chosen = [
        by_id[pid]
        for pid, clauses in needed(lock, options, project).items()
        if pid not in root_ids
        and by_id[pid].source.kind != "virtual"
        and any(all(holds(m) for m in clause) for clause in clauses)
    ]
    return sorted(chosen, key=lambda p: p.name)


def _marker(clauses: set[Clause]) -> str | None:
    if frozenset() in clauses:
        return None

    def conj(c: Clause) -> str:
        parts = sorted(c)
        return parts[0] if len(parts) == 1 else " and ".join(f"({m})" for m in parts)

    rendered = sorted(conj(c) for c in clauses)
    if len(rendered) == 1:
        return rendered[0]
    return " or ".join(f"({m})" for m in rendered)


def _pip_git_url(value: str) -> str:
    """uv's ``url?subdirectory=..&branch=..#sha`` as pip's ``git+url@sha#subdirectory=..``."""
    from urllib.parse import parse_qs

    rest, _, commit = value.partition("#")
    base, _, query = rest.partition("?")
    url = f"git+{base}@{commit}" if commit else f"git+{base}"
    sub = parse_qs(query).get("subdirectory")
    return f"{url}#subdirectory={sub[0]}" if sub else url


def _line(package: Package) -> str:
    kind, value = package.source.kind, package.source.value
    if kind == "registry":
        return f"{package.name}=={package.version}"
    if kind == "git":
        return f"{package.name} @ {_pip_git_url(value)}"
    if kind == "url":
        return f"{package.name} @ {value}"
    if kind == "editable":
        return f"-e ./{value}" if not value.startswith(("/", ".")) else f"-e {value}"
    return f"./{value}" if not value.startswith(("/", ".")) else value


def export_requirements(
    lock: Lock, options: ExportOptions | None = None, project: str | None = None
) -> str:
    """The requirements.txt text for ``lock``.

    >>> print(export_requirements(lock))  # doctest: +SKIP
    idna==3.20 \\
        --hash=sha256:...
    """
    options = options or ExportOptions()
    by_id = {_pid(p): p for p in lock.packages}
    root_ids = {_pid(p) for p in roots(lock, project)}
    lines = ["# This file was autogenerated by ghostenv export from uv.lock"]
    for pid, clauses in sorted(needed(lock, options, project).items(), key=lambda kv: str(kv[0])):
        package = by_id[pid]
        if package.source.kind == "virtual" or (pid in root_ids and not options.include_project):
            continue
        text = _line(package)
        marker = _marker(clauses)
        if marker:
            text += f" ; {marker}"
        hashes: list[str] = []
        if options.hashes and package.source.kind in ("registry", "url", "path"):
            artifacts = [*([package.sdist] if package.sdist else []), *package.wheels]
            hashes = sorted({a.hash for a in artifacts if a.hash})
        if hashes:
            lines.append(text + " \\")
            lines.extend(
                f"    --hash={h}" + (" \\" if i < len(hashes) - 1 else "")
                for i, h in enumerate(hashes)
            )
        else:
            lines.append(text)
    return "\n".join(lines) + "\n"
