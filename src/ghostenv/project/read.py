"""Read pyproject.toml into a :class:`Project`; every error names the file, the key and the problem.

Index settings come from ``[tool.ghostenv]`` when present, else from
``[tool.uv]`` (``index``, ``index-url``/``extra-index-url``), so a project set up
for uv works with ghostenv unchanged.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ghostenv.errors import ProjectError
from ghostenv.project.model import Index, Project

HINT = "fix pyproject.toml"


def _fail(path: Path, key: str, problem: str) -> ProjectError:
    return ProjectError(f"{path}: `{key}`: {problem}", hint=HINT)


def _requirements(path: Path, key: str, value: object) -> tuple[Requirement, ...]:
    if not isinstance(value, list):
        raise _fail(path, key, "expected an array of requirement strings")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail(path, f"{key}[{i}]", "expected a requirement string")
        try:
            out.append(Requirement(item))
        except InvalidRequirement as exc:
            problem = str(exc).splitlines()[0]
            raise _fail(path, f"{key}[{i}]", f"invalid requirement {item!r}: {problem}") from exc
    return tuple(out)


def _groups(path: Path, raw: object) -> tuple[tuple[str, tuple[Requirement, ...]], ...]:
    """Expand PEP 735 groups, ``include-group`` included, reporting cycles and unknown names."""
    if not isinstance(raw, dict):
        raise _fail(path, "dependency-groups", "expected a table")
    by_name: dict[str, tuple[str, list[Any]]] = {}
    for name, items in raw.items():
        norm = canonicalize_name(name)
        if norm in by_name:
            raise _fail(
                path, f"dependency-groups.{name}", f"duplicate group (also `{by_name[norm][0]}`)"
            )
        if not isinstance(items, list):
            raise _fail(path, f"dependency-groups.{name}", "expected an array")
        by_name[norm] = (name, items)

    resolved: dict[str, tuple[Requirement, ...]] = {}

    def expand(norm: str, stack: tuple[str, ...]) -> tuple[Requirement, ...]:
        if norm in resolved:
            return resolved[norm]
        if norm in stack:
            cycle = " -> ".join((*stack, norm))
            raise _fail(
                path, f"dependency-groups.{by_name[norm][0]}", f"include-group cycle: {cycle}"
            )
        name, items = by_name[norm]
        out: list[Requirement] = []
        for i, item in enumerate(items):
            key = f"dependency-groups.{name}[{i}]"
            if isinstance(item, str):
                out.extend(_requirements(path, key, [item]))
            elif isinstance(item, dict) and set(item) == {"include-group"}:
                target = item["include-group"]
                if not isinstance(target, str) or canonicalize_name(target) not in by_name:
                    raise _fail(path, key, f"include-group names unknown group {target!r}")
                out.extend(expand(canonicalize_name(target), (*stack, norm)))
            else:
                raise _fail(path, key, "expected a requirement string or { include-group = ... }")
        resolved[norm] = tuple(out)
        return resolved[norm]

    return tuple((norm, expand(norm, ())) for norm in by_name)


def _indexes(path: Path, tool: Mapping[str, Any]) -> tuple[Index, ...]:
    for section in ("ghostenv", "uv"):
        settings = tool.get(section)
        if not isinstance(settings, dict):
            continue
        out: list[Index] = []
        raw = settings.get("index", [])
        if not isinstance(raw, list):
            raise _fail(path, f"tool.{section}.index", "expected an array of tables")
        for i, entry in enumerate(raw):
            key = f"tool.{section}.index[{i}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
                raise _fail(path, key, "expected a table with a `url` string")
            out.append(
                Index(
                    url=entry["url"],
                    name=entry.get("name"),
                    default=bool(entry.get("default", False)),
                    explicit=bool(entry.get("explicit", False)),
                )
            )
        if isinstance(settings.get("index-url"), str):
            out.append(Index(url=settings["index-url"], default=True))
        for i, url in enumerate(settings.get("extra-index-url", [])):
            if not isinstance(url, str):
                raise _fail(path, f"tool.{section}.extra-index-url[{i}]", "expected a URL string")
            out.append(Index(url=url))
        if out:
            return tuple(out)
    return ()


def _sources(
    path: Path, tool: Mapping[str, Any]
) -> tuple[tuple[str, tuple[tuple[str, object], ...]], ...]:
    uv = tool.get("uv")
    raw = uv.get("sources", {}) if isinstance(uv, dict) else {}
    if not isinstance(raw, dict):
        raise _fail(path, "tool.uv.sources", "expected a table")
    out = []
    for name, spec in raw.items():
        if not isinstance(spec, dict):
            raise _fail(path, f"tool.uv.sources.{name}", "expected a table")
        out.append((canonicalize_name(name), tuple(spec.items())))
    return tuple(out)


def _workspace(path: Path, tool: Mapping[str, Any], key: str) -> tuple[str, ...]:
    uv = tool.get("uv")
    workspace = uv.get("workspace", {}) if isinstance(uv, dict) else {}
    value = workspace.get(key, []) if isinstance(workspace, dict) else None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"tool.uv.workspace.{key}", "expected an array of path globs")
    return tuple(value)


def _environments(path: Path, tool: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """``[tool.uv] environments`` / ``required-environments``: a marker or an array of them."""
    from packaging.markers import InvalidMarker, Marker

    uv = tool.get("uv")
    value = uv.get(key, []) if isinstance(uv, dict) else []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"tool.uv.{key}", "expected a marker string or an array of them")
    for i, text in enumerate(value):
        try:
            Marker(text)
        except InvalidMarker as exc:
            problem = str(exc).splitlines()[0]
            raise _fail(path, f"tool.uv.{key}[{i}]", f"invalid marker {text!r}: {problem}") from exc
    return tuple(value)


def _package(path: Path, tool: Mapping[str, Any]) -> bool | None:
    uv = tool.get("uv")
    value = uv.get("package") if isinstance(uv, dict) else None
    if value is not None and not isinstance(value, bool):
        raise _fail(path, "tool.uv.package", "expected true or false")
    return value


def _default_groups(path: Path, tool: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``[tool.uv] default-groups``: a list of group names, or ``"all"`` (None)."""
    uv = tool.get("uv")
    value = uv.get("default-groups", ["dev"]) if isinstance(uv, dict) else ["dev"]
    if value == "all":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, "tool.uv.default-groups", 'expected an array of group names or "all"')
    return tuple(dict.fromkeys(canonicalize_name(v) for v in value))


def parse_project(text: str, path: Path) -> Project:
    """Parse pyproject text; ``path`` is used in messages and as the project's location."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: invalid TOML: {exc}", hint=HINT) from exc
    project = doc.get("project")
    if not isinstance(project, dict):
        raise _fail(path, "project", "missing [project] table")
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(path, "project.name", "missing or not a string")
    dynamic = project.get("dynamic", [])
    if not isinstance(dynamic, list) or not all(isinstance(d, str) for d in dynamic):
        raise _fail(path, "project.dynamic", "expected an array of strings")
    version = project.get("version")
    if version is not None:
        if not isinstance(version, str):
            raise _fail(path, "project.version", "expected a string")
        try:
            version = str(Version(version))
        except InvalidVersion as exc:
            raise _fail(path, "project.version", f"invalid version {version!r}") from exc
    elif "version" not in dynamic:
        raise _fail(path, "project.version", "missing (and not listed in `project.dynamic`)")
    requires_python = None
    raw_rp = project.get("requires-python")
    if raw_rp is not None:
        if not isinstance(raw_rp, str):
            raise _fail(path, "project.requires-python", "expected a string")
        try:
            requires_python = SpecifierSet(raw_rp)
        except InvalidSpecifier as exc:
            raise _fail(path, "project.requires-python", f"invalid specifier {raw_rp!r}") from exc
    deps = _requirements(path, "project.dependencies", project.get("dependencies", []))
    raw_opt = project.get("optional-dependencies", {})
    if not isinstance(raw_opt, dict):
        raise _fail(path, "project.optional-dependencies", "expected a table")
    optional = tuple(
        (
            canonicalize_name(extra),
            _requirements(path, f"project.optional-dependencies.{extra}", reqs),
        )
        for extra, reqs in raw_opt.items()
    )
    groups = _groups(path, doc.get("dependency-groups", {}))
    tool = doc.get("tool", {})
    if not isinstance(tool, dict):
        raise _fail(path, "tool", "expected a table")
    return Project(
        path=path,
        name=canonicalize_name(name),
        version=version,
        requires_python=requires_python,
        dependencies=deps,
        optional_dependencies=optional,
        groups=groups,
        dynamic=tuple(dynamic),
        has_build_system=isinstance(doc.get("build-system"), dict),
        indexes=_indexes(path, tool),
        sources=_sources(path, tool),
        workspace_members=_workspace(path, tool, "members"),
        workspace_exclude=_workspace(path, tool, "exclude"),
        required_environments=_environments(path, tool, "required-environments"),
        environments=_environments(path, tool, "environments"),
        package=_package(path, tool),
        default_groups=_default_groups(path, tool),
    )


def read_project(path: Path) -> Project:
    """Read ``path`` (a pyproject.toml, or a directory holding one).

    >>> read_project(Path("examples/hello")).name  # doctest: +SKIP
    'hello'
    """
    path = Path(path)
    if path.is_dir():
        path = path / "pyproject.toml"
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ProjectError(
            f"{path}: not found", hint="run ghostenv in a project directory"
        ) from exc
    except OSError as exc:
        raise ProjectError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{path}: not valid UTF-8 (byte {exc.start})", hint=HINT) from exc
    return parse_project(text, path)
