"""Emit a :class:`Lock` as uv.lock text, following uv's layout (spec §2-§7).

The writer does not sort: the model carries uv's order (the reader keeps the
file's order, the locker builds canonical order), so ``dumps(loads(text))`` is
``text`` for any lock uv wrote. What the writer *does* derive is which
dependency entries need ``version``/``source`` (only names locked more than
once), exactly as uv does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ghostenv.errors import LockError
from ghostenv.lock.model import (
    Artifact,
    Dependency,
    DependencyMetadata,
    ExcludeNewerSpan,
    Lock,
    Manifest,
    Options,
    Package,
    Requirement,
    Source,
)
from ghostenv.lock.toml_out import inline, key, multiline, quote, serde_array

EXCLUDE_NEWER_PLACEHOLDER = (
    'exclude-newer = "0001-01-01T00:00:00Z" # This has no effect and is included for'
    " backwards compatibility when using relative exclude-newer values."
)


def source_table(source: Source) -> dict[str, object]:
    table: dict[str, object] = {source.kind: source.value}
    if source.subdirectory is not None:
        table["subdirectory"] = source.subdirectory
    return table


def artifact_table(artifact: Artifact) -> dict[str, object]:
    table: dict[str, object] = {}
    for name, value in (
        ("url", artifact.url),
        ("path", artifact.path),
        ("filename", artifact.filename),
        ("hash", artifact.hash),
        ("size", artifact.size),
        ("upload-time", artifact.upload_time),
    ):
        if value is not None:
            table[name] = value
    if artifact.zstd is not None:
        zstd: dict[str, object] = {}
        if artifact.zstd.hash is not None:
            zstd["hash"] = artifact.zstd.hash
        if artifact.zstd.size is not None:
            zstd["size"] = artifact.zstd.size
        table["zstd"] = zstd
    return table


def requirement_table(req: Requirement) -> dict[str, object]:
    """A requirement in serde order: name, extras, groups, marker, then its source."""
    table: dict[str, object] = {"name": req.name}
    if req.extras is not None:
        table["extras"] = list(req.extras)
    if req.groups is not None:
        table["groups"] = list(req.groups)
    if req.marker is not None:
        table["marker"] = req.marker
    if req.specifier is not None:
        table["specifier"] = req.specifier
    if req.index is not None:
        table["index"] = req.index
    if req.source_kind is not None and req.source_value is not None:
        table[req.source_kind] = req.source_value
    if req.subdirectory is not None:
        table["subdirectory"] = req.subdirectory
    if req.editable is not None:
        table["editable"] = req.editable
    if req.package is not None:
        table["package"] = req.package
    return table


def _dependency_table(dep: Dependency, counts: Counter[str]) -> dict[str, object]:
    table: dict[str, object] = {"name": dep.name}
    if counts[dep.name] > 1:
        if dep.version is not None:
            table["version"] = dep.version
        if dep.source is not None:
            table["source"] = source_table(dep.source)
    if dep.extra:
        table["extra"] = list(dep.extra)
    if dep.marker is not None:
        table["marker"] = dep.marker
    return table


def _options_lines(options: Options) -> list[str]:
    lines = ["", "[options]"]
    for name, value in (
        ("resolution-mode", options.resolution_mode),
        ("prerelease-mode", options.prerelease_mode),
        ("fork-strategy", options.fork_strategy),
    ):
        if value is not None:
            lines.append(f"{name} = {quote(value)}")
    if options.exclude_newer_span is not None:
        lines.append(EXCLUDE_NEWER_PLACEHOLDER)
        lines.append(f"exclude-newer-span = {quote(options.exclude_newer_span)}")
    elif options.exclude_newer is not None:
        lines.append(f"exclude-newer = {quote(options.exclude_newer)}")
    if options.exclude_newer_package:
        lines += ["", "[options.exclude-newer-package]"]
        for name, setting in options.exclude_newer_package:
            if isinstance(setting, ExcludeNewerSpan):
                text = inline({"timestamp": setting.timestamp, "span": setting.span})
            else:
                text = inline(setting)
            lines.append(f"{key(name)} = {text}")
    if options.prerelease_package:
        lines += ["", "[options.prerelease-package]"]
        lines += [f"{key(name)} = {quote(mode)}" for name, mode in options.prerelease_package]
    return lines


def _dependency_metadata_lines(meta: DependencyMetadata) -> list[str]:
    lines = ["", "[[manifest.dependency-metadata]]", f"name = {quote(meta.name)}"]
    if meta.version is not None:
        lines.append(f"version = {quote(meta.version)}")
    if meta.requires_dist is not None:
        lines.append(f"requires-dist = {inline(list(meta.requires_dist))}")
    if meta.requires_python is not None:
        lines.append(f"requires-python = {quote(meta.requires_python)}")
    if meta.provides_extras is not None:
        lines.append(f"provides-extras = {inline(list(meta.provides_extras))}")
    return lines


def _manifest_lines(manifest: Manifest) -> list[str]:
    lines: list[str] = []
    if manifest.has_direct_keys() or manifest.header:
        lines += ["", "[manifest]"]
        if manifest.members:
            lines += multiline("members", manifest.members)
        for name, reqs in (
            ("requirements", manifest.requirements),
            ("constraints", manifest.constraints),
            ("overrides", manifest.overrides),
        ):
            if reqs:
                lines += serde_array(name, [requirement_table(r) for r in reqs])
        if manifest.excludes:
            lines += serde_array("excludes", list(manifest.excludes))
        if manifest.build_constraints:
            lines += serde_array(
                "build-constraints", [requirement_table(r) for r in manifest.build_constraints]
            )
    if manifest.dependency_groups is not None:
        lines += ["", "[manifest.dependency-groups]"]
        for group, reqs in manifest.dependency_groups:
            lines += serde_array(group, [requirement_table(r) for r in reqs])
    if manifest.group_requires_python:
        lines += ["", "[manifest.group-requires-python]"]
        lines += [f"{key(g)} = {quote(spec)}" for g, spec in manifest.group_requires_python]
    for meta in manifest.dependency_metadata:
        lines += _dependency_metadata_lines(meta)
    return lines


def _package_lines(package: Package, counts: Counter[str]) -> list[str]:
    lines = ["", "[[package]]", f"name = {quote(package.name)}"]
    if package.version is not None:
        lines.append(f"version = {quote(package.version)}")
    lines.append(f"source = {inline(source_table(package.source))}")
    if package.resolution_markers:
        lines += multiline("resolution-markers", package.resolution_markers)
    if package.dependencies:
        lines += multiline(
            "dependencies", [_dependency_table(d, counts) for d in package.dependencies]
        )
    if package.sdist is not None:
        lines.append(f"sdist = {inline(artifact_table(package.sdist))}")
    if package.wheels:
        lines += multiline("wheels", [artifact_table(w) for w in package.wheels])
    for title, groups in (
        ("optional-dependencies", package.optional_dependencies),
        ("dev-dependencies", package.dev_dependencies),
    ):
        if groups:
            lines += ["", f"[package.{title}]"]
            for name, deps in groups:
                lines += multiline(name, [_dependency_table(d, counts) for d in deps])
    if package.group_requires_python:
        lines += ["", "[package.group-requires-python]"]
        lines += [f"{key(g)} = {quote(spec)}" for g, spec in package.group_requires_python]
    meta = package.metadata
    if meta is not None:
        lines += ["", "[package.metadata]"]
        if meta.requires_dist:
            lines += serde_array(
                "requires-dist", [requirement_table(r) for r in meta.requires_dist]
            )
        if meta.provides_extras is not None:
            lines.append(f"provides-extras = {inline(list(meta.provides_extras))}")
        if meta.requires_dev is not None:
            lines += ["", "[package.metadata.requires-dev]"]
            for group, reqs in meta.requires_dev:
                lines += serde_array(group, [requirement_table(r) for r in reqs])
    return lines


def dumps(lock: Lock) -> str:
    """The full text of ``lock`` as uv writes it (LF endings, one final newline).

    >>> dumps(Lock(requires_python=">=3.9"))
    'version = 1\\nrevision = 5\\nrequires-python = ">=3.9"\\n'
    """
    lines = [f"version = {lock.version}"]
    if lock.revision:
        lines.append(f"revision = {lock.revision}")
    lines.append(f"requires-python = {quote(lock.requires_python)}")
    for name, markers in (
        ("resolution-markers", lock.resolution_markers),
        ("supported-markers", lock.supported_markers),
        ("required-markers", lock.required_markers),
    ):
        if markers:
            lines += multiline(name, markers)
    if lock.conflicts:
        sets = []
        for conflict in lock.conflicts:
            items = []
            for item in conflict:
                table: dict[str, object] = {"package": item.package}
                if item.extra is not None:
                    table["extra"] = item.extra
                if item.group is not None:
                    table["group"] = item.group
                items.append(f"    {inline(table)},")
            sets.append("\n".join(items))
        lines.append("conflicts = [[\n" + "\n], [\n".join(sets) + "\n]]")
    if lock.options is not None:
        lines += _options_lines(lock.options)
    if lock.manifest is not None:
        lines += _manifest_lines(lock.manifest)
    counts = Counter(p.name for p in lock.packages)
    for package in lock.packages:
        lines += _package_lines(package, counts)
    return "\n".join(lines) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: temp file in the same directory, fsync, rename.

    On any failure the old file is left exactly as it was and the temp file is removed.
    """
    from ghostenv import fsutil

    path = Path(path)
    data = text.encode("utf-8")
    try:
        fsutil.write_atomic(path, data, sync_dir=True)
    except OSError as exc:
        raise LockError(f"{path}: cannot write: {exc.strerror}") from exc


def write_lock(path: Path, lock: Lock) -> bool:
    """Write ``lock`` to ``path`` only if its text changed; return whether it wrote."""
    text = dumps(lock)
    try:
        if Path(path).read_text(encoding="utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text)
    return True
