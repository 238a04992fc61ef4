"""Merging the forks of a universal resolution into one graph with edge markers.

Each fork contributes its edges with the fork's marker added; the same edge
from several forks is the disjunction. A node is reachable under the union of
(its parents' reachability and the edge's marker); an edge is written relative
to its parent's reachability (``restrict``) and requires-python, which is how
uv writes ``tomli`` without a marker under a pytest locked only for old Pythons.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from ghostenv.resolve.markers import Interval, MarkerTree
from ghostenv.resolve.universal_forks import Solved
from ghostenv.resolve.universal_provider import VIRTUAL

__all__ = ["assemble"]

Node = tuple[str, Version, str | None]  # name (or @virtual), version, extra


def _node_of(key: str, version: Version) -> Node:
    if key.startswith("@"):
        return (key, version, None)
    if key.endswith("]") and "[" in key:
        base, extra = key[:-1].split("[", 1)
        return (base, version, extra)
    return (key, version, None)


def _graph(solved: Solved) -> dict[tuple[Node, Node], MarkerTree]:
    edges: dict[tuple[Node, Node], MarkerTree] = {}
    for fork in solved.forks:
        for (key, version), deps in fork.edges.items():
            if fork.decisions.get(key) != version:
                continue  # fetched before a backjump, not part of this fork's answer
            parent = _node_of(key, version)
            for dep in deps:
                target = fork.decisions.get(dep.name)
                if target is None:
                    continue
                marker = dep.marker & fork.env
                if marker.is_false:
                    continue
                child = (dep.name, target, dep.extra)
                pair = (parent, child)
                edges[pair] = edges[pair] | marker if pair in edges else marker
    return edges


def _reachability(edges: dict[tuple[Node, Node], MarkerTree]) -> dict[Node, MarkerTree]:
    reach: dict[Node, MarkerTree] = {}
    for parent, _ in edges:
        if parent[0].startswith("@"):
            reach[parent] = MarkerTree.true()
    changed = True
    while changed:
        changed = False
        for (parent, child), marker in edges.items():
            source = reach.get(parent)
            if source is None:
                continue
            gained = source & marker
            current = reach.get(child)
            merged = gained if current is None else current | gained
            if merged != current:
                reach[child] = merged
                changed = True
    return reach


def _text(marker: MarkerTree, rp: Interval) -> str | None:
    text = str(marker.simplify_python(rp))
    return text or None


def assemble(solved: Solved, root: Any, requires_python: Any) -> Any:
    from ghostenv.resolve.universal import (
        Edge,
        ResolvedPackage,
        UniversalResolution,
    )

    rp = solved.requires_python
    forked = len(solved.forks) > 1
    fork_text = [_text(f.env, rp) or "" for f in solved.forks]
    edges = _graph(solved)
    reach = _reachability(edges)
    live = {node for node, marker in reach.items() if not marker.is_false}

    versions: dict[str, set[Version]] = {}
    for name, version, _ in live:
        if not name.startswith("@"):
            versions.setdefault(name, set()).add(version)

    # Everything the forks cover (all of requires-python, or only `environments` when the
    # resolution was seeded with them): uv writes edge markers relative to it.
    covered = MarkerTree.false()
    for fork in solved.forks:
        covered = covered | fork.env

    # uv keeps ``extra`` on a dependency only when that extra of the target has dependencies.
    extra_has_deps = {parent for (parent, _), marker in edges.items() if parent[2] is not None}

    outgoing: dict[Node, list[Any]] = {}
    for (parent, child), marker in edges.items():
        if parent not in live or child not in live:
            continue
        if child[2] is not None and child not in extra_has_deps:
            continue
        if child[0].startswith("@extra:") and child not in {p for p, _ in edges}:
            continue  # an extra of the project with no dependencies
        written = marker.restrict(reach[parent] & covered)
        text = _text(written, rp)
        # Kept even when the parent's reachability rules it out: uv writes such an edge
        # with the marker `python_version < '0'`.
        name, version, extra = child
        if name.startswith("@"):  # the project itself, through one of its extras
            if name.startswith("@group:"):
                continue
            name, extra = canonicalize_name(root.name), name.removeprefix("@extra:")
            extra = None if extra == "@project" else extra
        many = len(versions.get(name, ())) > 1 and not child[0].startswith("@")
        outgoing.setdefault(parent, []).append(
            Edge(name=name, extra=extra, marker=text, version=version if many else None)
        )

    def sorted_edges(node: Node) -> tuple[Any, ...]:
        found = outgoing.get(node, [])
        return tuple(
            sorted(
                found,
                key=lambda e: (e.name, e.version or Version("0"), e.extra or "", e.marker or ""),
            )
        )

    packages = []
    for name in sorted(versions):
        for version in sorted(versions[name]):
            markers: tuple[str, ...] = ()
            if forked and len(versions[name]) > 1:
                node = (name, version, None)
                markers = tuple(
                    text
                    for text, fork in zip(fork_text, solved.forks, strict=True)
                    if fork.decisions.get(name) == version and not reach[node].is_disjoint(fork.env)
                )
            extras = sorted({x for n, v, x in live if n == name and v == version and x is not None})
            optional = tuple(
                (extra, edges_)
                for extra in extras
                if (edges_ := sorted_edges((name, version, extra)))
            )
            packages.append(
                ResolvedPackage(
                    name=name,
                    version=version,
                    resolution_markers=markers,
                    dependencies=sorted_edges((name, version, None)),
                    optional=optional,
                )
            )

    def virtual(key: str) -> tuple[Any, ...]:
        return sorted_edges((key, VIRTUAL, None))

    return UniversalResolution(
        requires_python=requires_python,
        forks=tuple(fork_text) if forked else (),
        root_dependencies=virtual("@project"),
        root_optional=tuple(
            (canonicalize_name(x), virtual(f"@extra:{canonicalize_name(x)}"))
            for x in sorted(root.optional)
        ),
        root_groups=tuple(
            (canonicalize_name(g), virtual(f"@group:{canonicalize_name(g)}"))
            for g in sorted(root.groups)
        ),
        packages=tuple(packages),
    )
