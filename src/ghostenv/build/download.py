"""One file download for builds (backend wheels, sdists): streamed, checked, atomic.

Credentials come from the URL itself or, for its host, ``~/.netrc`` (as the
index client does for pages), so a private index serves build requirements and
sdists too.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ghostenv.errors import HashMismatchError, NetworkError


def download(url: str, dest: Path, *, filename: str, sha256: str | None = None) -> None:
    """Write ``url``'s bytes to ``dest`` (atomically), checking ``sha256`` when given."""
    import httpx

    auth: httpx.Auth | None = None
    netrc = os.path.expanduser(os.environ.get("NETRC", "~/.netrc"))
    if "@" not in url.split("/", 3)[2] and os.path.isfile(netrc):
        try:
            auth = httpx.NetRCAuth(netrc)
        except Exception:  # an unreadable or malformed netrc: go without, as curl does
            auth = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    temp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        with httpx.Client(follow_redirects=True, timeout=60.0, auth=auth) as client, \
                client.stream("GET", url) as response:
            if response.status_code != 200:
                raise NetworkError(f"{url}: HTTP {response.status_code} downloading {filename}",
                                   hint="check the index is reachable and the file exists")
            with temp.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 16):
                    digest.update(chunk)
                    handle.write(chunk)
        if sha256 and digest.hexdigest() != sha256.lower():
            raise HashMismatchError(f"{filename}: sha256 mismatch: expected {sha256.lower()}, "
                                    f"got {digest.hexdigest()}",
                                    hint="the file changed upstream or was corrupted; retry")
        os.replace(temp, dest)
    except httpx.HTTPError as exc:
        raise NetworkError(f"{url}: {type(exc).__name__}: {exc}",
                           hint="check your connection and retry") from exc
    finally:
        temp.unlink(missing_ok=True)


__all__ = ["download"]
