"""Put a lock in uv's canonical order (spec §7), for locks ghostenv builds itself.

The writer never sorts (a lock read from disk keeps its order). A lock built by
the resolver goes through :func:`canonicalize` first: packages by (name,
version, source), dependency entries by target id and extras, wheels by file
name, extra/group tables and members by name. Ties between entries that differ
only in their marker keep the order they came in (uv orders those by its
decision-diagram form, which this module does not reproduce), and the orders uv
preserves (resolution markers, provides-extras, requirement extras) are left alone.
"""

from __future__ import annotations

from dataclasses import replace

from packaging.version import InvalidVersion, Version

from ghostenv.lock.model import Dependency, Lock, Manifest, Package, Source


def _version_key(version: str | None) -> tuple[int, Version | str]:
    if version is None:
        return (0, "")
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (2, version)


def _id_key(name: str, version: str | None, source: Source | None) -> tuple[object, ...]:
    return (name.encode(), _version_key(version), source.sort_key() if source else (-1, "", ""))


def _dep_key(dep: Dependency) -> tuple[object, ...]:
    return (*_id_key(dep.name, dep.version, dep.source), tuple(sorted(dep.extra)))


def _deps(deps: tuple[Dependency, ...]) -> tuple[Dependency, ...]:
    fixed = (replace(d, extra=tuple(sorted(d.extra))) for d in deps)
    return tuple(sorted(fixed, key=_dep_key))


def _package(p: Package) -> Package:
    return replace(
        p,
        dependencies=_deps(p.dependencies),
        wheels=tuple(sorted(p.wheels, key=lambda w: w.name or "")),
        optional_dependencies=tuple(sorted((g, _deps(d)) for g, d in p.optional_dependencies)),
        dev_dependencies=tuple(sorted((g, _deps(d)) for g, d in p.dev_dependencies)),
        group_requires_python=tuple(sorted(p.group_requires_python)),
        metadata=(
            None
            if p.metadata is None
            else replace(
                p.metadata,
                requires_dev=None
                if p.metadata.requires_dev is None
                else tuple(sorted(p.metadata.requires_dev, key=lambda kv: kv[0])),
            )
        ),
    )


def _manifest(m: Manifest) -> Manifest:
    return replace(
        m,
        members=tuple(sorted(m.members)),
        dependency_groups=None
        if m.dependency_groups is None
        else tuple(sorted(m.dependency_groups, key=lambda kv: kv[0])),
        group_requires_python=tuple(sorted(m.group_requires_python)),
        dependency_metadata=tuple(sorted(m.dependency_metadata, key=lambda d: d.name)),
    )


def canonicalize(lock: Lock) -> Lock:
    """``lock`` with every order uv sorts put in uv's order; idempotent.

    >>> canonicalize(lock) == canonicalize(canonicalize(lock))  # doctest: +SKIP
    True
    """
    packages = tuple(
        sorted(
            (_package(p) for p in lock.packages), key=lambda p: _id_key(p.name, p.version, p.source)
        )
    )
    options = lock.options
    if options is not None:
        options = replace(
            options,
            exclude_newer_package=tuple(
                sorted(options.exclude_newer_package, key=lambda kv: kv[0])
            ),
            prerelease_package=tuple(sorted(options.prerelease_package)),
        )
    return replace(
        lock,
        packages=packages,
        options=options,
        manifest=None if lock.manifest is None else _manifest(lock.manifest),
    )
