"""Parse uv.lock text into a :class:`Lock`: lenient TOML, strict semantics (spec §9).

Accepted as uv accepts it: any TOML formatting, unknown keys (ignored), any
package order, ``[[distribution]]`` for ``[[package]]``, ``upload_time``,
missing ``revision``/``hash``/``size``/``upload-time`` on registry files and
redundant ``version``/``source`` on dependencies. Rejected as uv rejects it:
invalid TOML, ``version != 1``, a package without ``source``, a registry package
without ``version``, a wheel whose file name disagrees with the version, a
dependency naming a missing or ambiguous package, a url/path wheel without
``hash``, and unquoted TOML datetimes. Every error names the place
(``package[12].wheels[0].hash``) and, where it can be found, the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from ghostenv.errors import LockError
from ghostenv.lock.fast_toml import parse_canonical
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
    Zstd,
)

if TYPE_CHECKING:
    from os import PathLike
    from typing import Any

_HEADER = re.compile(r"^\s*\[\[\s*(package|distribution)\s*\]\]\s*(#.*)?$")
_REQ_SOURCES = ("git", "url", "path", "directory", "editable", "virtual")


class _Locator:
    """Maps a place such as ``package[3].wheels[1]`` to a line of the text.

    tomllib gives no positions, so this scans the raw lines: the n-th
    ``[[package]]`` header starts package n, and a key inside it is the first
    line in that range starting with the key; an element of a multi-line array
    is counted from there. Good enough to point a user at the right line.
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if _HEADER.match(line)]

    def line(
        self, package: int | None, keys: tuple[str, ...] = (), index: int | None = None
    ) -> int | None:
        if package is None:
            start, end = 0, (self.headers[0] if self.headers else len(self.lines))
        elif package < len(self.headers):
            start = self.headers[package]
            end = self.headers[package + 1] if package + 1 < len(self.headers) else len(self.lines)
        else:
            return None
        found = start
        for name in keys:
            pattern = re.compile(rf"^\s*(\[+\s*)?[\w.\"'-]*{re.escape(name)}[\"']?\s*(=|\])")
            for i in range(found, end):
                if pattern.match(self.lines[i]):
                    found = i
                    break
        if (
            index is not None
            and found + 1 + index < end
            and self.lines[found].rstrip().endswith("[")
        ):
            found += 1 + index
        return found + 1


class _Reader:
    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.text = text
        self._locator: _Locator | None = None

    @property
    def locator(self) -> _Locator:
        """Built on the first error only: scanning every line costs more than parsing does."""
        if self._locator is None:
            self._locator = _Locator(self.text)
        return self._locator

    def fail(
        self,
        place: str,
        problem: str,
        *,
        package: int | None = None,
        keys: tuple[str, ...] = (),
        index: int | None = None,
    ) -> LockError:
        line = self.locator.line(package, keys, index)
        where = f"{self.filename}:{line}" if line is not None else self.filename
        return LockError(
            f"{where}: `{place}`: {problem}",
            hint="regenerate the lock with `ghostenv lock` (or fix the file by hand)",
        )

    # -- scalar helpers -------------------------------------------------
    def string(
        self,
        table: Mapping[str, Any],
        name: str,
        place: str,
        pkg: int | None,
        *,
        required: bool = False,
    ) -> str | None:
        value = table.get(name)
        if value is None:
            if required:
                raise self.fail(
                    f"{place}.{name}" if place else name, "missing required field", package=pkg
                )
            return None
        if not isinstance(value, str):
            kind = "a TOML datetime" if hasattr(value, "isoformat") else type(value).__name__
            raise self.fail(
                f"{place}.{name}" if place else name,
                f"expected a string, found {kind}",
                package=pkg,
                keys=(name,),
            )
        return value

    def strings(
        self, value: object, place: str, pkg: int | None, keys: tuple[str, ...] = ()
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(place, "expected an array of strings", package=pkg, keys=keys)
        return tuple(value)

    def table(
        self, value: object, place: str, pkg: int | None, keys: tuple[str, ...] = ()
    ) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(place, "expected a table", package=pkg, keys=keys)
        return value

    def array(
        self, value: object, place: str, pkg: int | None, keys: tuple[str, ...] = ()
    ) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(place, "expected an array", package=pkg, keys=keys)
        return value

    # -- structures -----------------------------------------------------
    def source(self, value: object, place: str, pkg: int | None) -> Source:
        table = self.table(value, place, pkg, ("source",))
        kinds = [k for k in SOURCE_KINDS if k in table]
        if len(kinds) != 1:
            raise self.fail(
                place,
                f"expected exactly one of {', '.join(SOURCE_KINDS)}",
                package=pkg,
                keys=("source",),
            )
        kind = kinds[0]
        text = self.string(table, kind, place, pkg)
        assert text is not None
        sub = self.string(table, "subdirectory", place, pkg)
        return Source(kind, text, sub)

    def artifact(
        self, value: object, place: str, pkg: int, keys: tuple[str, ...], index: int | None
    ) -> Artifact:
        table = self.table(value, place, pkg, keys)
        upload = "upload-time" if "upload-time" in table else "upload_time"
        size = table.get("size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
            raise self.fail(
                f"{place}.size", "expected an integer", package=pkg, keys=keys, index=index
            )
        zstd = None
        if "zstd" in table:
            z = self.table(table["zstd"], f"{place}.zstd", pkg, keys)
            zsize = z.get("size")
            if zsize is not None and not isinstance(zsize, int):
                raise self.fail(
                    f"{place}.zstd.size", "expected an integer", package=pkg, keys=keys, index=index
                )
            zstd = Zstd(self.string(z, "hash", f"{place}.zstd", pkg), zsize)
        for name in ("url", "path", "filename", "hash", upload):
            if name in table and not isinstance(table[name], str):
                kind = (
                    "a TOML datetime"
                    if hasattr(table[name], "isoformat")
                    else type(table[name]).__name__
                )
                raise self.fail(
                    f"{place}.{name}",
                    f"expected a string, found {kind}",
                    package=pkg,
                    keys=keys,
                    index=index,
                )
        return Artifact(
            url=table.get("url"),
            path=table.get("path"),
            filename=table.get("filename"),
            hash=table.get("hash"),
            size=size,
            upload_time=table.get(upload),
            zstd=zstd,
        )

    def dependency(
        self, value: object, place: str, pkg: int, keys: tuple[str, ...], index: int
    ) -> Dependency:
        table = self.table(value, place, pkg, keys)
        name = self.string(table, "name", place, pkg, required=True)
        assert name is not None
        src = self.source(table["source"], f"{place}.source", pkg) if "source" in table else None
        extra = self.strings(table.get("extra", []), f"{place}.extra", pkg, keys)
        return Dependency(
            name=name,
            version=self.string(table, "version", place, pkg),
            source=src,
            extra=extra,
            marker=self.string(table, "marker", place, pkg),
        )

    def requirement(
        self, value: object, place: str, pkg: int | None, keys: tuple[str, ...]
    ) -> Requirement:
        table = self.table(value, place, pkg, keys)
        name = self.string(table, "name", place, pkg, required=True)
        assert name is not None
        kinds = [k for k in _REQ_SOURCES if k in table]
        if len(kinds) > 1:
            raise self.fail(
                place, f"more than one source ({', '.join(kinds)})", package=pkg, keys=keys
            )
        kind = kinds[0] if kinds else None
        extras = table.get("extras")
        groups = table.get("groups")
        flags: dict[str, bool | None] = {}
        for flag in ("editable", "package"):
            raw = table.get(flag)
            if flag == kind:
                raw = None
            if raw is not None and not isinstance(raw, bool):
                raise self.fail(f"{place}.{flag}", "expected a boolean", package=pkg, keys=keys)
            flags[flag] = raw
        return Requirement(
            name=name,
            extras=None if extras is None else self.strings(extras, f"{place}.extras", pkg, keys),
            groups=None if groups is None else self.strings(groups, f"{place}.groups", pkg, keys),
            marker=self.string(table, "marker", place, pkg),
            specifier=self.string(table, "specifier", place, pkg),
            index=self.string(table, "index", place, pkg),
            source_kind=kind,
            source_value=self.string(table, kind, place, pkg) if kind else None,
            subdirectory=self.string(table, "subdirectory", place, pkg),
            editable=flags["editable"],
            package=flags["package"],
        )

    def requirements(
        self, value: object, place: str, pkg: int | None, keys: tuple[str, ...]
    ) -> tuple[Requirement, ...]:
        items = self.array(value, place, pkg, keys)
        return tuple(self.requirement(v, f"{place}[{i}]", pkg, keys) for i, v in enumerate(items))

    def groups_of_deps(
        self, value: object, place: str, pkg: int
    ) -> tuple[tuple[str, tuple[Dependency, ...]], ...]:
        table = self.table(value, place, pkg, (place.rsplit(".", 1)[-1],))
        out = []
        for group, items in table.items():
            arr = self.array(items, f"{place}.{group}", pkg, (group,))
            deps = tuple(
                self.dependency(
                    v, f"{place}.{group}[{i}]", pkg, (place.rsplit(".", 1)[-1], group), i
                )
                for i, v in enumerate(arr)
            )
            out.append((group, deps))
        return tuple(out)

    def package(self, raw: object, n: int) -> Package:
        place = f"package[{n}]"
        table = self.table(raw, place, n)
        name = self.string(table, "name", place, n, required=True)
        assert name is not None
        if "source" not in table:
            raise self.fail(place, f"package `{name}` has no `source` field", package=n)
        source = self.source(table["source"], f"{place}.source", n)
        version = self.string(table, "version", place, n)
        if version is None and source.kind == "registry":
            raise self.fail(place, f"registry package `{name}` has no `version` field", package=n)
        sdist = None
        if "sdist" in table:
            sdist = self.artifact(table["sdist"], f"{place}.sdist", n, ("sdist",), None)
        wheels = []
        for i, w in enumerate(
            self.array(table.get("wheels", []), f"{place}.wheels", n, ("wheels",))
        ):
            wplace = f"{place}.wheels[{i}]"
            wheel = self.artifact(w, wplace, n, ("wheels",), i)
            if wheel.hash is None and source.kind in ("url", "path"):
                raise self.fail(
                    f"{wplace}.hash",
                    f"wheel of `{name}` from a {source.kind} source has no hash",
                    package=n,
                    keys=("wheels",),
                    index=i,
                )
            self.check_wheel_version(wheel, version, wplace, n, i)
            wheels.append(wheel)
        deps = tuple(
            self.dependency(d, f"{place}.dependencies[{i}]", n, ("dependencies",), i)
            for i, d in enumerate(
                self.array(
                    table.get("dependencies", []), f"{place}.dependencies", n, ("dependencies",)
                )
            )
        )
        optional = self.groups_of_deps(
            table.get("optional-dependencies", {}), f"{place}.optional-dependencies", n
        )
        dev_raw = table.get("dev-dependencies", table.get("dependency-groups", {}))
        dev = self.groups_of_deps(dev_raw, f"{place}.dev-dependencies", n)
        grp = self.table(
            table.get("group-requires-python", {}), f"{place}.group-requires-python", n
        )
        group_rp = tuple(
            (g, self._str_value(v, f"{place}.group-requires-python.{g}", n)) for g, v in grp.items()
        )
        metadata = None
        if "metadata" in table:
            metadata = self.metadata(table["metadata"], f"{place}.metadata", n)
        markers = self.strings(
            table.get("resolution-markers", []),
            f"{place}.resolution-markers",
            n,
            ("resolution-markers",),
        )
        return Package(
            name=name,
            source=source,
            version=version,
            resolution_markers=markers,
            dependencies=deps,
            sdist=sdist,
            wheels=tuple(wheels),
            optional_dependencies=optional,
            dev_dependencies=dev,
            group_requires_python=group_rp,
            metadata=metadata,
        )

    def _str_value(self, value: object, place: str, pkg: int | None) -> str:
        if not isinstance(value, str):
            raise self.fail(
                place, "expected a string", package=pkg, keys=(place.rsplit(".", 1)[-1],)
            )
        return value

    def check_wheel_version(
        self, wheel: Artifact, version: str | None, place: str, n: int, i: int
    ) -> None:
        filename = wheel.name
        if version is None or filename is None or not filename.endswith(".whl"):
            return
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            raise self.fail(
                place, f"invalid wheel filename {filename!r}", package=n, keys=("wheels",), index=i
            )
        if parts[1] == version:
            return
        from packaging.version import InvalidVersion, Version

        try:
            same = Version(parts[1]) == Version(version)
        except InvalidVersion:
            same = parts[1] == version
        if not same:
            raise self.fail(
                place,
                f"wheel {filename!r} has version {parts[1]}, but the package is version {version}",
                package=n,
                keys=("wheels",),
                index=i,
            )

    def metadata(self, value: object, place: str, n: int) -> PackageMetadata:
        table = self.table(value, place, n, ("metadata",))
        requires_dist = self.requirements(
            table.get("requires-dist", []), f"{place}.requires-dist", n, ("requires-dist",)
        )
        provides = table.get("provides-extras")
        dev = None
        if "requires-dev" in table:
            groups = self.table(
                table["requires-dev"], f"{place}.requires-dev", n, ("requires-dev",)
            )
            dev = tuple(
                (g, self.requirements(v, f"{place}.requires-dev.{g}", n, ("requires-dev", g)))
                for g, v in groups.items()
            )
        return PackageMetadata(
            requires_dist=requires_dist,
            provides_extras=None
            if provides is None
            else self.strings(provides, f"{place}.provides-extras", n, ("provides-extras",)),
            requires_dev=dev,
        )

    def options(self, value: object) -> Options:
        table = self.table(value, "options", None, ("options",))
        enp: list[tuple[str, bool | str | ExcludeNewerSpan]] = []
        for name, v in self.table(
            table.get("exclude-newer-package", {}), "options.exclude-newer-package", None
        ).items():
            if isinstance(v, dict):
                ts = self.string(
                    v, "timestamp", f"options.exclude-newer-package.{name}", None, required=True
                )
                span = self.string(
                    v, "span", f"options.exclude-newer-package.{name}", None, required=True
                )
                assert ts is not None
                assert span is not None
                enp.append((name, ExcludeNewerSpan(ts, span)))
            elif isinstance(v, bool | str):
                enp.append((name, v))
            else:
                raise self.fail(
                    f"options.exclude-newer-package.{name}",
                    "expected false, a timestamp or a span table",
                    keys=(name,),
                )
        pre = self.table(table.get("prerelease-package", {}), "options.prerelease-package", None)
        return Options(
            resolution_mode=self.string(table, "resolution-mode", "options", None),
            prerelease_mode=self.string(table, "prerelease-mode", "options", None),
            fork_strategy=self.string(table, "fork-strategy", "options", None),
            exclude_newer=self.string(table, "exclude-newer", "options", None),
            exclude_newer_span=self.string(table, "exclude-newer-span", "options", None),
            exclude_newer_package=tuple(enp),
            prerelease_package=tuple(
                (k, self._str_value(v, f"options.prerelease-package.{k}", None))
                for k, v in pre.items()
            ),
        )

    def manifest(self, value: object) -> Manifest:
        table = self.table(value, "manifest", None, ("manifest",))
        direct = (
            "members",
            "requirements",
            "constraints",
            "overrides",
            "excludes",
            "build-constraints",
        )
        groups = None
        if "dependency-groups" in table:
            raw = self.table(table["dependency-groups"], "manifest.dependency-groups", None)
            groups = tuple(
                (g, self.requirements(v, f"manifest.dependency-groups.{g}", None, (g,)))
                for g, v in raw.items()
            )
        grp = self.table(
            table.get("group-requires-python", {}), "manifest.group-requires-python", None
        )
        metas = []
        for i, m in enumerate(
            self.array(table.get("dependency-metadata", []), "manifest.dependency-metadata", None)
        ):
            place = f"manifest.dependency-metadata[{i}]"
            mt = self.table(m, place, None)
            name = self.string(mt, "name", place, None, required=True)
            assert name is not None
            rd, pe = mt.get("requires-dist"), mt.get("provides-extras")
            metas.append(
                DependencyMetadata(
                    name=name,
                    version=self.string(mt, "version", place, None),
                    requires_dist=None
                    if rd is None
                    else self.strings(rd, f"{place}.requires-dist", None),
                    requires_python=self.string(mt, "requires-python", place, None),
                    provides_extras=None
                    if pe is None
                    else self.strings(pe, f"{place}.provides-extras", None),
                )
            )
        return Manifest(
            members=self.strings(table.get("members", []), "manifest.members", None, ("members",)),
            requirements=self.requirements(
                table.get("requirements", []), "manifest.requirements", None, ("requirements",)
            ),
            constraints=self.requirements(
                table.get("constraints", []), "manifest.constraints", None, ("constraints",)
            ),
            overrides=self.requirements(
                table.get("overrides", []), "manifest.overrides", None, ("overrides",)
            ),
            excludes=self.strings(
                table.get("excludes", []), "manifest.excludes", None, ("excludes",)
            ),
            build_constraints=self.requirements(
                table.get("build-constraints", []),
                "manifest.build-constraints",
                None,
                ("build-constraints",),
            ),
            dependency_groups=groups,
            group_requires_python=tuple(
                (g, self._str_value(v, f"manifest.group-requires-python.{g}", None))
                for g, v in grp.items()
            ),
            dependency_metadata=tuple(metas),
            header=not any(k in table for k in direct) and self._bare_manifest_header(),
        )

    def _bare_manifest_header(self) -> bool:
        return any(line.strip() == "[manifest]" for line in self.locator.lines)

    def conflicts(self, value: object) -> tuple[tuple[ConflictItem, ...], ...]:
        sets = []
        for i, conflict in enumerate(self.array(value, "conflicts", None, ("conflicts",))):
            items = []
            for j, item in enumerate(self.array(conflict, f"conflicts[{i}]", None, ("conflicts",))):
                place = f"conflicts[{i}][{j}]"
                t = self.table(item, place, None, ("conflicts",))
                pkg = self.string(t, "package", place, None, required=True)
                assert pkg is not None
                items.append(
                    ConflictItem(
                        pkg,
                        self.string(t, "extra", place, None),
                        self.string(t, "group", place, None),
                    )
                )
            sets.append(tuple(items))
        return tuple(sets)

    def _tomllib(self) -> dict[str, Any]:
        import tomllib

        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as exc:
            raise LockError(
                f"{self.filename}: invalid TOML: {exc}",
                hint="fix the syntax or regenerate the lock with `ghostenv lock`",
            ) from exc

    def lock(self) -> Lock:
        # uv's own layout is read by the fast subset parser; anything else by tomllib
        # (imported only then: it costs more to import than the fast parser takes)
        doc = parse_canonical(self.text)
        if doc is None:
            doc = self._tomllib()
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise self.fail("version", "missing or not an integer", keys=("version",))
        if version != 1:
            raise self.fail(
                "version",
                f"unsupported schema version (v{version}, but only v1 is supported)",
                keys=("version",),
            )
        revision = doc.get("revision", 0)
        if not isinstance(revision, int) or isinstance(revision, bool):
            raise self.fail("revision", "expected an integer", keys=("revision",))
        requires_python = self.string(doc, "requires-python", "", None, required=True)
        assert requires_python is not None
        raw_packages = doc.get("package", doc.get("distribution", []))
        packages = [
            self.package(p, n) for n, p in enumerate(self.array(raw_packages, "package", None))
        ]
        packages = self.link(packages)
        return Lock(
            requires_python=requires_python,
            version=version,
            revision=revision,
            resolution_markers=self.strings(
                doc.get("resolution-markers", []),
                "resolution-markers",
                None,
                ("resolution-markers",),
            ),
            supported_markers=self.strings(
                doc.get("supported-markers", []), "supported-markers", None, ("supported-markers",)
            ),
            required_markers=self.strings(
                doc.get("required-markers", []), "required-markers", None, ("required-markers",)
            ),
            conflicts=self.conflicts(doc.get("conflicts", [])),
            options=self.options(doc["options"]) if "options" in doc else None,
            manifest=self.manifest(doc["manifest"]) if "manifest" in doc else None,
            packages=tuple(packages),
        )

    def link(self, packages: list[Package]) -> list[Package]:
        """Resolve every dependency entry to one package and fill in its full id."""
        by_name: dict[str, list[Package]] = {}
        for p in packages:
            by_name.setdefault(p.name, []).append(p)

        def resolve(
            dep: Dependency, place: str, n: int, keys: tuple[str, ...], i: int
        ) -> Dependency:
            candidates = by_name.get(dep.name, [])
            if dep.version is not None:
                candidates = [c for c in candidates if c.version == dep.version]
            if dep.source is not None:
                candidates = [c for c in candidates if c.source == dep.source]
            if not candidates:
                raise self.fail(
                    place,
                    f"dependency `{dep.name}` names a package that is not in the lock",
                    package=n,
                    keys=keys,
                    index=i,
                )
            if len(candidates) > 1:
                raise self.fail(
                    place,
                    f"dependency `{dep.name}` has no `source`/`version` but the lock has"
                    f" more than one `{dep.name}`",
                    package=n,
                    keys=keys,
                    index=i,
                )
            target = candidates[0]
            return replace(dep, version=target.version, source=target.source)

        out = []
        for n, p in enumerate(packages):
            base = f"package[{n}]"
            deps = tuple(
                resolve(d, f"{base}.dependencies[{i}]", n, ("dependencies",), i)
                for i, d in enumerate(p.dependencies)
            )
            opt = tuple(
                (
                    g,
                    tuple(
                        resolve(
                            d,
                            f"{base}.optional-dependencies.{g}[{i}]",
                            n,
                            ("optional-dependencies", g),
                            i,
                        )
                        for i, d in enumerate(ds)
                    ),
                )
                for g, ds in p.optional_dependencies
            )
            dev = tuple(
                (
                    g,
                    tuple(
                        resolve(
                            d, f"{base}.dev-dependencies.{g}[{i}]", n, ("dev-dependencies", g), i
                        )
                        for i, d in enumerate(ds)
                    ),
                )
                for g, ds in p.dev_dependencies
            )
            out.append(
                replace(p, dependencies=deps, optional_dependencies=opt, dev_dependencies=dev)
            )
        return out


def loads(text: str, *, filename: str = "uv.lock") -> Lock:
    """Parse uv.lock text; raise :class:`LockError` naming the place and line on bad input.

    >>> loads('version = 1\\nrequires-python = ">=3.9"\\n').revision
    0
    """
    return _Reader(text, filename).lock()


def read_lock(path: str | PathLike[str]) -> Lock:
    """Read and parse the lock at ``path``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise LockError(
            f"{path}: cannot read: {exc.strerror}", hint="run `ghostenv lock` to create it"
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LockError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    return loads(text, filename=str(path))
