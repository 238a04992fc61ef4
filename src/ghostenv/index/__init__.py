"""The index client: simple pages (PEP 503 HTML, PEP 691 JSON), metadata, HTTP cache.

Public names: :class:`DistFile`, :class:`ProjectPage`, :class:`IndexClient`,
:func:`normalize_name`.
"""

from __future__ import annotations

from ghostenv.index.models import DistFile, ProjectPage, normalize_name

__all__ = ["DistFile", "IndexClient", "ProjectPage", "normalize_name"]


def __getattr__(name: str) -> object:
    # httpx is heavy: import the client only when someone asks for it.
    if name == "IndexClient":
        from ghostenv.index.client import IndexClient

        return IndexClient
    raise AttributeError(name)
