"""Does an existing lock still satisfy the project? Answered without resolving (spec §10).

uv's fast path compares the lock's recorded inputs with the project: the
requires-python range, the root package (name, version, virtual or not) and its
``[package.metadata]`` (requires-dist, provides-extras, requires-dev). When they
agree, the lock stands and nothing is resolved. This returns ``None`` for "still
good" or the first reason it is not, phrased for a user.

Markers are compared by meaning, not text: uv rewrites ``python_version`` to
``python_full_version`` and reorders terms, so two markers count as equal when
they agree on a grid of environments that covers every boundary a project can
realistically name (Python 2.7 to 3.16, the common platforms, the extras in play).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import Requirement as PepRequirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from ghostenv.lock.model import Lock, Requirement
from ghostenv.project.model import Project

_PYTHONS = [
    f"{major}.{minor}.{patch}"
    for major, minor in [(2, 7)] + [(3, m) for m in range(16)]
    for patch in (0, 1, 20)
]
_PLATFORMS = [
    {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
    },
    {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "aarch64",
    },
    {
        "sys_platform": "win32",
        "platform_system": "Windows",
        "os_name": "nt",
        "platform_machine": "AMD64",
    },
    {
        "sys_platform": "darwin",
        "platform_system": "Darwin",
        "os_name": "posix",
        "platform_machine": "arm64",
    },
]
_IMPLS = [("cpython", "CPython"), ("pypy", "PyPy")]

Key = tuple[str, frozenset[str], str, tuple[str, str] | None]


@lru_cache(maxsize=64)
def _envs(extras: tuple[str, ...], pythons: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for py, plat, (impl, pimpl), extra in itertools.product(
        pythons, _PLATFORMS, _IMPLS, ("", *extras)
    ):
        out.append(
            {
                **plat,
                "python_full_version": py,
                "python_version": ".".join(py.split(".")[:2]),
                "implementation_name": impl,
                "platform_python_implementation": pimpl,
                "implementation_version": py,
                "platform_release": "",
                "platform_version": "",
                "extra": extra,
            }
        )
    return out


@lru_cache(maxsize=4096)
def _truth(
    marker: str | None, extras: tuple[str, ...], pythons: tuple[str, ...]
) -> tuple[bool, ...]:
    if marker is None:
        return (True,) * len(_envs(extras, pythons))
    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return (False,)
    return tuple(parsed.evaluate(env) for env in _envs(extras, pythons))


def _same_markers(
    want: Sequence[str | None], have: Sequence[str | None], pythons: tuple[str, ...]
) -> bool:
    """Two marker lists (``environments``, ``required-environments``) mean the same.

    Compared by truth over the sample environments, one by one, as uv does for
    both lists: a respelled marker is no change, a new or dropped one is.
    """
    return len(want) == len(have) and all(
        _truth(a, (), pythons) == _truth(b, (), pythons) for a, b in zip(want, have, strict=True)
    )


def _spec(text: str | None) -> str:
    try:
        return str(SpecifierSet(text or ""))
    except InvalidSpecifier:
        return text or ""


def _project_source(
    project: Project, req: PepRequirement, members: Mapping[str, str]
) -> tuple[str, str] | None:
    if req.url:
        if req.url.startswith("git+"):
            return ("git", req.url[4:])
        return ("url", req.url)
    spec = dict(project.sources).get(canonicalize_name(req.name))
    if spec is None:
        return None
    table = dict(spec)
    if table.get("workspace") and canonicalize_name(req.name) in members:
        return ("editable", members[canonicalize_name(req.name)])
    if "git" in table:
        return ("git", str(table["git"]))
    if "url" in table:
        return ("url", str(table["url"]))
    if "path" in table:
        path = str(table["path"])
        if table.get("editable"):
            return ("editable", path)
        if path.endswith((".whl", ".tar.gz", ".zip")):
            return ("path", path)
        return ("directory", path)
    return None


def _from_project(
    project: Project,
    reqs: Iterable[tuple[PepRequirement, str | None]],
    members: Mapping[str, str],
) -> list[tuple[Key, str | None]]:
    out = []
    for req, extra in reqs:
        marker = str(req.marker) if req.marker else None
        if extra is not None:
            tail = f"extra == '{extra}'"
            marker = f"({marker}) and {tail}" if marker else tail
        source = _project_source(project, req, members)
        spec = "" if source else _spec(str(req.specifier))
        key: Key = (
            canonicalize_name(req.name),
            frozenset(map(canonicalize_name, req.extras)),
            spec,
            source,
        )
        out.append((key, marker))
    return out


def _from_lock(reqs: Iterable[Requirement]) -> list[tuple[Key, str | None]]:
    out = []
    for req in reqs:
        source = (req.source_kind, req.source_value or "") if req.source_kind else None
        if source and source[0] == "git":
            source = ("git", source[1].split("#", 1)[0])
        key: Key = (
            req.name,
            frozenset(req.extras or ()),
            "" if source else _spec(req.specifier),
            source,
        )
        out.append((key, req.marker))
    return out


def _same(
    want: list[tuple[Key, str | None]],
    have: list[tuple[Key, str | None]],
    extras: tuple[str, ...],
    pythons: tuple[str, ...],
) -> str | None:
    """Compare two requirement lists as multisets, markers by meaning; name the first difference."""
    remaining = list(have)
    for key, marker in want:
        truth = _truth(marker, extras, pythons)
        match = next(
            (
                i
                for i, (k, m) in enumerate(remaining)
                if k == key and _truth(m, extras, pythons) == truth
            ),
            None,
        )
        if match is None:
            return f"`{key[0]}` ({marker or 'no marker'}) is not recorded in the lock"
        del remaining[match]
    if remaining:
        return f"`{remaining[0][0][0]}` is in the lock but no longer required by the project"
    return None


def _check_package(
    lock: Lock, project: Project, members: Mapping[str, str], pythons: tuple[str, ...]
) -> str | None:
    """Compare one project (the root or a workspace member) with its locked package."""
    found = [
        p
        for p in lock.packages
        if p.name == project.name and p.source.kind in ("virtual", "editable", "directory")
    ]
    if not found:
        return f"the project `{project.name}` is not in the lock"
    root = found[0]
    if project.version is not None and root.version != project.version:
        return f"`{project.name}` version changed ({root.version} -> {project.version})"
    expected_kind = "virtual" if project.virtual else "editable"
    if root.source.kind != expected_kind:
        return f"`{project.name}` is now {expected_kind} (the lock has it {root.source.kind})"
    meta = root.metadata
    if meta is None:
        return f"the lock has no [package.metadata] for `{project.name}`"
    extras = project.extras()
    if tuple(meta.provides_extras or ()) != extras:
        return (
            f"the extras of `{project.name}` changed"
            f" ({list(meta.provides_extras or ())} -> {list(extras)})"
        )
    want = _from_project(
        project,
        [
            *((r, None) for r in project.dependencies),
            *((r, e) for e, reqs in project.optional_dependencies for r in reqs),
        ],
        members,
    )
    reason = _same(want, _from_lock(meta.requires_dist), extras, pythons)
    if reason:
        return f"dependencies of `{project.name}` changed: {reason}"
    have_groups: Mapping[str, tuple[Requirement, ...]] = dict(meta.requires_dev or ())
    want_groups = dict(project.groups)
    if set(have_groups) != set(want_groups):
        return f"dependency groups changed ({sorted(have_groups)} -> {sorted(want_groups)})"
    for group, reqs in want_groups.items():
        reason = _same(
            _from_project(project, ((r, None) for r in reqs), members),
            _from_lock(have_groups[group]),
            (),
            pythons,
        )
        if reason:
            return f"dependency group `{group}` of `{project.name}` changed: {reason}"
    return None


def satisfies(lock: Lock, project: Project) -> str | None:
    """``None`` when ``lock`` still satisfies ``project``, else why not (one line).

    >>> satisfies(read_lock(Path("uv.lock")), read_project(Path(".")))  # doctest: +SKIP
    """
    want_rp = str(project.requires_python) if project.requires_python is not None else ""
    if SpecifierSet(want_rp) != SpecifierSet(lock.requires_python.replace(", ", ",")):
        return (
            f"requires-python changed: the lock has `{lock.requires_python}`,"
            f" the project `{want_rp}`"
        )
    # Markers only matter on the Pythons the lock covers (uv treats them the same way).
    admitted = SpecifierSet(lock.requires_python.replace(", ", ","))
    pythons = tuple(py for py in _PYTHONS if admitted.contains(py)) or tuple(_PYTHONS)
    want_supported = project.environments
    if not _same_markers(want_supported, lock.supported_markers, pythons):
        return (
            f"environments changed ({list(lock.supported_markers)} -> {list(want_supported)})"
        )
    want_required = project.required_environments
    if not _same_markers(want_required, lock.required_markers, pythons):
        return (
            f"required-environments changed ({list(lock.required_markers)}"
            f" -> {list(want_required)})"
        )
    member_projects = project.members()
    members = {m.name: rel for rel, m in member_projects}
    if member_projects:
        want_members = tuple(sorted({project.name, *members}))
        have_members = lock.manifest.members if lock.manifest is not None else ()
        if have_members != want_members:
            return f"workspace members changed ({list(have_members)} -> {list(want_members)})"
    for candidate in (project, *(m for _, m in member_projects)):
        reason = _check_package(lock, candidate, members, pythons)
        if reason:
            return reason
    return None
