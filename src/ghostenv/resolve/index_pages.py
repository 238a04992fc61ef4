"""Reading an index page for the resolver: versions from file names, metadata fields.

Kept apart from :mod:`ghostenv.resolve.index_source` (the fetching side) because these
are pure functions of a page or of metadata bytes, hot on large pages, and tested alone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ghostenv.index.models import normalize_name

if TYPE_CHECKING:
    from packaging.requirements import Requirement
    from packaging.version import Version

    from ghostenv.index import ProjectPage
    from ghostenv.resolve.python import Candidate, Metadata

__all__ = ["candidates_of"]


def candidates_of(norm: str, page: ProjectPage
                  ) -> tuple[list[Candidate], dict[str, list[int]]]:
    """Candidates of ``page`` and, by version text, the positions of their files in
    ``page.files`` (:meth:`ProjectPage.file_at` makes them), in one pass over the rows.

    Hot on large pages (the `big` workload lists 120,000 files): the version and the
    compressed tag triple are cut out of file names with string splits, each distinct
    version or requires-python text is parsed once, the full wheel-name check is left
    to the one file that gets downloaded, and only (filename, requires-python, yanked)
    rows are read: a file object is made only for the versions a resolution asks about.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion
    from packaging.version import Version as V

    from ghostenv.resolve.python import Candidate

    # per version text: [files, tags, requires-python, has sdist, all yanked]
    by_text: dict[str, list[Any]] = {}
    for index, (filename, requires_python, yanked) in enumerate(page.file_rows()):
        text, tag = _split_filename(filename, norm)
        if text is None:
            continue
        entry = by_text.get(text)
        if entry is None:
            entry = by_text[text] = [[], set(), None, False, True]
        entry[0].append(index)
        if tag is None:
            entry[3] = True
        else:
            entry[1].add(tag)
        if entry[2] is None and requires_python:
            entry[2] = requires_python
        if not yanked:
            entry[4] = False
    specs: dict[str, SpecifierSet | None] = {}
    merged: dict[Version, list[Any]] = {}
    for text, entry in by_text.items():
        try:
            version = V(text)
        except InvalidVersion:
            continue
        same = merged.get(version)  # "1.0" and "1.0.0" are one version
        if same is None:
            merged[version] = entry
        else:
            same[0].extend(entry[0])
            same[1] |= entry[1]
            same[2] = same[2] or entry[2]
            same[3] = same[3] or entry[3]
            same[4] = same[4] and entry[4]
    out = []
    grouped: dict[str, list[int]] = {}
    for version, (files, tags, requires, has_sdist, yanked) in merged.items():
        grouped[str(version)] = files
        spec = specs.get(requires) if requires else None
        if requires and requires not in specs:
            try:
                spec = specs[requires] = SpecifierSet(requires)
            except InvalidSpecifier:
                spec = specs[requires] = None
        out.append(Candidate(version=version, requires_python=spec,
                             wheel_tags=tuple(sorted(tags)), has_sdist=has_sdist,
                             yanked=yanked))
    return out, grouped


_FOLD = re.compile(r"[-_.]")
_SDIST_EXTS = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz")


def _split_filename(filename: str, project: str = "") -> tuple[str | None, str | None]:
    """(version text, compressed tag triple or None for an sdist); (None, None) if neither.

    ``name-1.0(-build)?-py3-none-any.whl``, and ``name-1.0.tar.gz`` where, given the
    normalized ``project`` name, the version is whatever follows the name as uv reads
    it: ``cffi-1.0.2-2.tar.gz`` is cffi 1.0.2-2 (= 1.0.2.post2), not cffi-1.0.2 version 2.
    Without a project name, the version is after the last hyphen.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None, None
        return parts[1], "-".join(parts[-3:])
    for ext in _SDIST_EXTS:
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            if "-" not in stem:
                return None, None
            if project:
                # common case: the name as normalized, or with "_"/"." for "-", any case
                n = len(project)
                if stem[n:n + 1] == "-" and _FOLD.sub("-", stem[:n]).lower() == project:
                    return stem[n + 1:] or None, None
                at = stem.find("-")
                while at > 0:
                    if normalize_name(stem[:at]) == project:
                        return stem[at + 1:] or None, None
                    at = stem.find("-", at + 1)
            return stem.rpartition("-")[2], None
    return None, None


def _parse(data: bytes, source: str) -> Metadata:
    """The two fields the resolver needs, read as leniently as pip and uv read them.

    Field-level reading (:func:`ghostenv.wheel.metadata.requirement_fields`), not the
    validating parser: ~0.1 ms instead of ~5 ms per file, and a malformed field the
    resolver does not use (License-File under 2.1, say) cannot fail a resolution. A
    requirement line that does not parse is skipped, as pip does.
    """
    from packaging.requirements import InvalidRequirement
    from packaging.utils import canonicalize_name

    from ghostenv.resolve.python import Metadata
    from ghostenv.wheel.metadata import requirement_fields

    lines, extra_names = requirement_fields(data)
    requires = []
    for line in lines:
        try:
            requires.append(_requirement(line))
        except InvalidRequirement:
            continue
    return Metadata(tuple(requires), tuple(canonicalize_name(e) for e in extra_names if e))


_REQUIREMENTS: dict[str, Requirement] = {}


def _requirement(text: str) -> Requirement:
    """Parsed once per distinct text (the same lines recur across versions and projects).

    Requirement objects are not mutated by anyone downstream, so sharing is safe.
    """
    found = _REQUIREMENTS.get(text)
    if found is None:
        from packaging.requirements import Requirement

        found = _REQUIREMENTS[text] = Requirement(text)
    return found
