"""Property: any model survives write -> read unchanged, and writing is a fixed point."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ghostenv.lock.model import (
    SOURCE_KINDS,
    Artifact,
    ConflictItem,
    Dependency,
    DependencyMetadata,
    ExcludeNewerSpan,
    Lock,
    Manifest,
    Options,
    Package,
    PackageMetadata,
    Requirement,
    Source,
)
from ghostenv.lock.read import loads
from ghostenv.lock.write import dumps

names = st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,3})?", fullmatch=True)
# Any text, including quotes, backslashes, newlines, control and non-ASCII characters:
# it exercises every quoting form of the writer.
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
versions = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", fullmatch=True)
hashes = st.from_regex(r"sha256:[0-9a-f]{8}", fullmatch=True)
opt = st.none() | texts
sizes = st.none() | st.integers(0, 10**12)


def requirements() -> st.SearchStrategy[Requirement]:
    kinds = st.sampled_from((None, "git", "url", "path", "directory", "editable", "virtual"))

    @st.composite
    def build(draw: st.DrawFn) -> Requirement:
        kind = draw(kinds)
        return Requirement(
            name=draw(names),
            extras=draw(st.none() | st.lists(names, max_size=2).map(tuple)),
            groups=draw(st.none() | st.lists(names, max_size=2).map(tuple)),
            marker=draw(opt),
            specifier=draw(opt) if kind is None else None,
            index=draw(opt) if kind is None else None,
            source_kind=kind,
            source_value=draw(texts) if kind else None,
            subdirectory=draw(opt) if kind in ("git", "url") else None,
        )

    return build()


def reqs(max_size: int = 3) -> st.SearchStrategy[tuple[Requirement, ...]]:
    return st.lists(requirements(), max_size=max_size).map(tuple)


def named(values: st.SearchStrategy[object]) -> st.SearchStrategy[tuple[tuple[str, object], ...]]:
    return st.dictionaries(names, values, max_size=3).map(lambda d: tuple(d.items()))


@st.composite
def artifacts(draw: st.DrawFn, filename: str) -> Artifact:
    where = draw(st.sampled_from(("url", "path", "filename")))
    loc = {
        "url": f"https://files.example/{filename}",
        "path": f"files/{filename}",
        "filename": filename,
    }
    return Artifact(
        **{where: loc[where]},
        hash=draw(hashes),
        size=draw(sizes),
        upload_time=draw(st.none() | st.just("2024-12-04T17:35:26.475Z")),
    )


@st.composite
def locks(draw: st.DrawFn) -> Lock:
    heads = draw(st.lists(st.tuples(names, versions, st.sampled_from(SOURCE_KINDS)), max_size=6))
    ids = []
    for i, (name, version, kind) in enumerate(heads):
        source = Source(kind, f"https://x.example/{i}/ünï code" if kind != "virtual" else f"./p{i}")
        ids.append((name, version, source))

    def deps() -> st.SearchStrategy[tuple[Dependency, ...]]:
        if not ids:
            return st.just(())
        one = st.builds(
            lambda target, extra, marker: Dependency(
                target[0], target[1], target[2], extra, marker
            ),
            st.sampled_from(ids),
            st.lists(names, max_size=2).map(tuple),
            opt,
        )
        return st.lists(one, max_size=3).map(tuple)

    packages = []
    for name, version, source in ids:
        wheels = tuple(
            draw(artifacts(f"{name.replace('-', '_')}-{version}-py3-none-any.whl"))
            for _ in range(draw(st.integers(0, 2)))
        )
        sdist = draw(st.none() | artifacts(f"{name}-{version}.tar.gz"))
        metadata = draw(
            st.none()
            | st.builds(
                PackageMetadata,
                requires_dist=reqs(),
                provides_extras=st.none() | st.lists(names, max_size=3).map(tuple),
                requires_dev=st.none() | named(reqs()),
            )
        )
        packages.append(
            Package(
                name=name,
                source=source,
                version=version,
                resolution_markers=tuple(draw(st.lists(texts, max_size=2))),
                dependencies=draw(deps()),
                sdist=sdist,
                wheels=wheels,
                optional_dependencies=draw(named(deps())),
                dev_dependencies=draw(named(deps())),
                group_requires_python=draw(named(texts)),
                metadata=metadata,
            )
        )
    span = draw(st.none() | st.just("P1W"))
    options = draw(
        st.none()
        | st.builds(
            Options,
            resolution_mode=opt,
            prerelease_mode=opt,
            fork_strategy=opt,
            exclude_newer=st.just("0001-01-01T00:00:00Z") if span else opt,
            exclude_newer_span=st.just(span),
            exclude_newer_package=named(
                st.booleans() | texts | st.builds(ExcludeNewerSpan, texts, texts)
            ),
            prerelease_package=named(texts),
        )
    )
    manifest = draw(
        st.none()
        | st.builds(
            Manifest,
            members=st.lists(names, min_size=1, max_size=3).map(tuple),
            requirements=reqs(),
            constraints=reqs(),
            overrides=reqs(),
            excludes=st.lists(names, max_size=2).map(tuple),
            build_constraints=reqs(),
            dependency_groups=st.none() | named(reqs()),
            group_requires_python=named(texts),
            dependency_metadata=st.lists(
                st.builds(
                    DependencyMetadata,
                    name=names,
                    version=st.none() | versions,
                    requires_dist=st.none() | st.lists(texts, max_size=2).map(tuple),
                    requires_python=opt,
                    provides_extras=st.none() | st.lists(names, max_size=2).map(tuple),
                ),
                max_size=2,
            ).map(tuple),
        )
    )
    conflict = st.builds(
        ConflictItem,
        names,
        st.none() | names,
        st.none(),
    )
    return Lock(
        requires_python=draw(texts),
        revision=draw(st.integers(0, 9)),
        resolution_markers=tuple(draw(st.lists(texts, max_size=3))),
        supported_markers=tuple(draw(st.lists(texts, max_size=2))),
        required_markers=tuple(draw(st.lists(texts, max_size=2))),
        conflicts=tuple(
            draw(st.lists(st.lists(conflict, min_size=1, max_size=3).map(tuple), max_size=2))
        ),
        options=options,
        manifest=manifest,
        packages=tuple(packages),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(locks())
def test_write_read_is_identity(lock: Lock) -> None:
    text = dumps(lock)
    again = loads(text)
    assert again == lock
    assert dumps(again) == text


@settings(max_examples=300, deadline=None)
@given(texts)
def test_any_string_survives_quoting(value: str) -> None:
    lock = Lock(requires_python=value, resolution_markers=(value,))
    assert loads(dumps(lock)) == lock
