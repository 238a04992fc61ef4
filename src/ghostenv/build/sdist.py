"""Metadata of index sdists for the resolver: fetch the archive once, ask its backend.

:func:`sdist_metadata_builder` returns the callable ``IndexSource(sdist_metadata=...)``
wants: given the sdist's :class:`~ghostenv.index.DistFile`, the METADATA bytes a
``prepare_metadata_for_build_wheel`` produces. Downloaded sdists are kept under
``<store>/sdists-v1/`` by their published sha256 (by URL when the index gives
none), so a later build of the same sdist, or an offline run, reads the file
from disk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import HashMismatchError, NetworkError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.index import DistFile
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store

SDISTS = "sdists-v1"


def fetch_sdist(file: DistFile, store: Store, settings: IndexSettings) -> Path:
    """A local path holding ``file``'s bytes (checked against its sha256 when known)."""
    from urllib.parse import unquote, urlsplit

    from ghostenv.build.download import download
    from ghostenv.store.cas import file_sha256

    if file.url.startswith("file:"):
        path = Path(unquote(urlsplit(file.url).path))
        if file.sha256 and file_sha256(path) != file.sha256.lower():
            raise HashMismatchError(f"{file.filename}: sha256 mismatch with the index")
        return path
    key = (file.sha256 or hashlib.sha256(file.url.encode()).hexdigest()).lower()
    final = store.root / SDISTS / key[:2] / key / file.filename
    if final.is_file():
        return final
    if settings.offline:
        raise NetworkError(f"{file.filename} is not in the cache and --offline forbids "
                           "downloading it", hint="run once online to fill the cache")
    download(file.url, final, filename=file.filename, sha256=file.sha256)
    return final


def sdist_metadata_builder(interpreter: Interpreter, settings: IndexSettings, store: Store, *,
                           log: Callable[[str], None] | None = None
                           ) -> Callable[[DistFile], bytes]:
    """The ``IndexSource(sdist_metadata=...)`` callback: METADATA of an sdist by PEP 517."""
    from ghostenv.build.prepare import prepare_metadata

    def build(file: DistFile) -> bytes:
        path = fetch_sdist(file, store, settings)
        return prepare_metadata(path, interpreter=interpreter, settings=settings, store=store,
                                log=log)

    return build


__all__ = ["fetch_sdist", "sdist_metadata_builder"]
