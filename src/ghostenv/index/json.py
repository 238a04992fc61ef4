"""PEP 691 JSON simple pages, with PEP 700 (``versions``, ``size``, ``upload-time``)."""

from __future__ import annotations

import json as _json
from typing import Any
from urllib.parse import urljoin

from ghostenv.errors import NetworkError
from ghostenv.index.html import Pick
from ghostenv.index.models import DistFile, FileRow, ProjectPage, normalize_name

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def _core(entry: dict[str, Any]) -> bool | dict[str, str]:
    value = entry.get("core-metadata", entry.get("dist-info-metadata", False))
    if isinstance(value, dict):
        return {str(k): str(v).lower() for k, v in value.items()}
    return bool(value)


def _file(entry: dict[str, Any], url: str) -> DistFile:
    """The :class:`DistFile` of one PEP 691 file entry (``url`` already resolved)."""
    yanked = entry.get("yanked", False)
    size = entry.get("size")
    raw = entry.get("hashes", {})
    try:
        hashes = {k: v.lower() for k, v in raw.items()}
    except AttributeError:  # a non-string digest: keep it as text
        hashes = {str(k): str(v).lower() for k, v in raw.items()}
    core = entry.get("core-metadata", entry.get("dist-info-metadata", False))
    return DistFile(
        filename=entry["filename"],
        url=url,
        hashes=hashes,
        requires_python=entry.get("requires-python") or None,
        yanked=yanked if isinstance(yanked, str) and yanked else bool(yanked),
        size=size if isinstance(size, int) else None,
        upload_time=entry.get("upload-time"),
        core_metadata=core if core is False else _core(entry),
    )


def parse_json(data: bytes | str, page_url: str, *, pick: Pick | None = None) -> ProjectPage:
    """Parse a PEP 691 project page; relative file URLs resolve against ``page_url``.

    ``pick``: as for :func:`ghostenv.index.html.parse_html`, only the files it
    chooses from every (filename, yanked) become :class:`DistFile` objects. Without
    one, the page is lazy (:meth:`ProjectPage.lazy`): each file's row is read now (and
    its entry checked), its :class:`DistFile` made when asked for; decoding the
    entries of the 120,000 files of a big lock into objects took longer than the
    JSON decoding itself.
    """
    try:
        doc = _json.loads(data)
        kept: list[tuple[dict[str, Any], str]] = []
        rows: list[FileRow] = []
        seen: set[str] = set()
        entries = doc.get("files", ())
        if pick is not None:
            wanted = pick([(e["filename"], bool(e.get("yanked"))) for e in entries])
            entries = [e for e in entries if e["filename"] in wanted]
        for entry in entries:
            href = entry["url"]
            # absolute URLs (PyPI's) skip urljoin: it is most of the per-file cost
            # (137,000 files for the top 100 projects)
            absolute = href.startswith(("https://", "http://")) and "/." not in href
            url = href if absolute else urljoin(page_url, href)
            if url in seen:
                continue
            seen.add(url)
            filename = entry["filename"]
            if not isinstance(filename, str) or not isinstance(entry.get("hashes", {}), dict):
                raise TypeError(f"file entry {filename!r} is malformed")
            yanked = entry.get("yanked", False)
            kept.append((entry, url))
            rows.append((filename, entry.get("requires-python") or None,
                         yanked if isinstance(yanked, str) and yanked else bool(yanked)))
        meta = doc.get("meta", {})
        fields: dict[str, Any] = {
            "name": normalize_name(doc.get("name", "")), "url": page_url,
            "api_version": meta.get("api-version"), "versions": tuple(doc.get("versions", ()))}
        if pick is not None:
            return ProjectPage(files=tuple(_file(e, u) for e, u in kept), **fields)

        def build(index: int) -> DistFile:
            try:
                return _file(*kept[index])
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise NetworkError(f"{page_url}: malformed PEP 691 JSON page ({exc})",
                                   hint="check the index URL; it may not serve the simple API",
                                   ) from exc

        return ProjectPage.lazy(rows=rows, build=build, **fields)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NetworkError(f"{page_url}: malformed PEP 691 JSON page ({exc})",
                           hint="check the index URL; it may not serve the simple API",
                           ) from exc
