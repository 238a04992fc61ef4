"""The HTTP cache: simple pages with their validators, metadata keyed by file hash.

Layout under ``<cache_dir>/http-v1/``::

    pages/<sha256(url)[:2]>/<sha256(url)>   header JSON line + body
    metadata/<algo>/<digest>.metadata       immutable: a file's hash names its metadata
    derived/<kind>/<ab>/<sha256(body)>.json what a caller picked from exactly that body

Why split: a page changes and must be revalidated (ETag/Last-Modified), while the metadata
of a file whose hash is known never changes, so it is never refetched. Every write goes to a
temp file in the same directory and is ``os.replace``d into place under a ``filelock`` so
concurrent ghostenv processes never see half an entry; an entry that does not parse is
deleted and treated as a miss.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A stored page and what is needed to revalidate it."""

    url: str
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    stored_at: float
    max_age: int
    #: sha256 of ``body`` when known (stored with the entry: a warm run that gets the same
    #: bytes back reuses it instead of hashing the page again)
    digest: str | None = field(default=None, compare=False)
    #: False for an entry stored without its body (``body`` is empty, ``digest`` is set):
    #: what a keyed pick chose from that body is all a caller can get from it
    has_body: bool = field(default=True, compare=False)

    def fresh(self, now: float | None = None) -> bool:
        """Whether ``Cache-Control: max-age`` still covers this copy."""
        return (now or time.time()) < self.stored_at + self.max_age

    def conditional_headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def max_age_of(cache_control: str | None) -> int:
    """Seconds a response may be reused without asking; 0 for no-cache/no-store/absent."""
    if not cache_control or "no-cache" in cache_control or "no-store" in cache_control:
        return 0
    m = _MAX_AGE.search(cache_control)
    return int(m.group(1)) if m else 0


def atomic_write(path: Path, data: bytes, *, lock: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    A temp file in the same directory renamed over ``path`` under a file lock, like
    :func:`ghostenv.fsutil.write_atomic` but without the fsync: every entry of this
    cache checks itself when read (a page's length, a metadata file's sha256, a derived
    entry's JSON), so a crash that loses the bytes costs a refetch, never a wrong
    answer, while an fsync per entry made a cold peek of the top 100 wait ~1.5 s on
    the disk. Concurrent readers and writers still only ever see whole files.

    ``lock=False`` for content-addressed entries (a key names exactly one content):
    writers racing on one can only put the same bytes, and the rename alone keeps
    readers whole; the lock (~0.5 ms of CPU each, 200 of a cold top-100 peek's 300
    writes) buys nothing there.
    """
    import contextlib
    import os
    import tempfile

    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if lock:
            _replace_locked(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _replace_locked(tmp: str, path: Path) -> None:
    """``os.replace(tmp, path)`` holding ``<path>.lock``: the lock the ``filelock``
    package takes on POSIX (``flock`` on that file, so both interoperate), taken
    directly: the package's Python-level bookkeeping cost ~0.5 ms of CPU a write, held
    the GIL against the event loop while it ran in a writer thread."""
    import os

    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        from filelock import FileLock

        with FileLock(str(path) + ".lock", timeout=30):
            os.replace(tmp, path)
        return
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held for one rename: never long
        os.replace(tmp, path)
    finally:
        os.close(fd)  # closing releases the lock


class HttpCache:
    """Pages and metadata on disk. ``root`` is ghostenv's cache directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "http-v1"

    def _page_path(self, url: str, variant: str = "") -> Path:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.root / (f"pages-{variant}" if variant else "pages") / key[:2] / key

    def get_page(self, url: str, variant: str = "") -> CachedPage | None:
        """The stored page of ``url``. ``variant`` names a dialect asked for apart
        (``"html"``: peek's smaller pages), stored beside the default (JSON-first) copy
        so a caller that needs PEP 700 fields never gets an HTML page from the cache."""
        path = self._page_path(url, variant)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        try:
            header, sep, body = raw.partition(b"\n")
            info = json.loads(header)
            has_body = info.get("body", True) is not False
            if not sep or info["url"] != url or len(body) != (info["length"] if has_body else 0):
                raise ValueError("truncated or foreign entry")
            if not has_body and not isinstance(info.get("sha256"), str):
                raise ValueError("a body-less entry without its digest")
            return CachedPage(url=url, body=body, content_type=info["content_type"],
                              etag=info.get("etag"), last_modified=info.get("last_modified"),
                              stored_at=float(info["stored_at"]), max_age=int(info["max_age"]),
                              digest=info.get("sha256"), has_body=has_body)
        except (ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # corrupt: discard, the caller refetches
            return None

    def put_page(self, page: CachedPage, variant: str = "", *, body: bool = True) -> None:
        """Store ``page``; ``body=False`` keeps only its digest and headers (a page that
        has no validators, whose keyed pick is stored: see IndexClient._store_picked)."""
        header = json.dumps({
            "url": page.url, "content_type": page.content_type, "etag": page.etag,
            "last_modified": page.last_modified, "stored_at": page.stored_at,
            "max_age": page.max_age, "length": len(page.body),
            "sha256": page.digest or hashlib.sha256(page.body).hexdigest(),
            **({} if body else {"body": False}),
        }).encode()
        atomic_write(self._page_path(page.url, variant),
                     header + b"\n" + (page.body if body else b""))

    def _derived_path(self, kind: str, body: bytes, digest: str | None = None) -> Path:
        key = digest or hashlib.sha256(body).hexdigest()
        return self.root / "derived" / kind / key[:2] / f"{key}.json"

    def get_derived(self, kind: str, body: bytes, digest: str | None = None) -> object | None:
        """What ``kind`` computed from exactly these page bytes before (JSON), or None.

        Keyed by the body's sha256, so it can never outlive the page it came from:
        a changed page is a different key. A corrupt entry is a miss. ``digest``: the
        body's sha256 when the caller already knows it.
        """
        path = self._derived_path(kind, body, digest)
        try:
            value: object = json.loads(path.read_bytes())
        except OSError:
            return None
        except ValueError:
            path.unlink(missing_ok=True)
            return None
        return value

    def put_derived(self, kind: str, body: bytes, value: object,
                    digest: str | None = None) -> None:
        atomic_write(self._derived_path(kind, body, digest), json.dumps(value).encode(),
                     lock=False)

    def _metadata_path(self, algo: str, digest: str) -> Path:
        return self.root / "metadata" / algo / f"{digest}.metadata"

    def get_metadata(self, algo: str, digest: str) -> bytes | None:
        try:
            data = self._metadata_path(algo, digest).read_bytes()
        except OSError:
            return None
        # the entry carries the sha256 of its body: a torn or edited file is a miss
        check, _, body = data.partition(b"\n")
        if hashlib.sha256(body).hexdigest().encode() != check:
            self._metadata_path(algo, digest).unlink(missing_ok=True)
            return None
        return body

    def put_metadata(self, algo: str, digest: str, data: bytes) -> None:
        check = hashlib.sha256(data).hexdigest().encode()
        atomic_write(self._metadata_path(algo, digest), check + b"\n" + data, lock=False)
