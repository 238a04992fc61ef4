"""Which files of a locked version go into uv.lock, and how each is written (spec §5.3).

uv records every wheel of the locked version that the lock's requires-python
can use (judged from the wheel's Python and ABI tags alone, so numpy 1.26.4
locked only for ``<3.10`` still lists its cp310-cp312 wheels), sorted by file
name as a plain string, plus one sdist. Each file gets the strongest hash the
index gives, its size when the index reports one (PEP 700), and its upload time
in milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.lock.model import Artifact

if TYPE_CHECKING:
    from ghostenv.index import DistFile

#: Strongest first (uv prefers blake2b > sha512 > sha384 > sha256 > md5).
HASH_STRENGTH = ("blake2b", "sha512", "sha384", "sha256", "md5")
_CP = re.compile(r"^(?:cp|pp|gp|pt)(\d)(\d+)")
_PY = re.compile(r"^py(\d)(\d+)?$")
_UTC = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(?:Z|\+00:00)")


def strongest_hash(hashes: dict[str, str]) -> str | None:
    """``"sha256:<hex>"`` for the strongest digest offered, or None."""
    for algo in HASH_STRENGTH:
        for name, value in hashes.items():
            if name.lower().replace("_", "").startswith(algo.replace("_", "")):
                return f"{algo}:{value.lower()}"
    return None


def upload_time_ms(text: str | None) -> str | None:
    """The index's upload time as uv stores it: UTC, milliseconds, trailing zeros trimmed.

    >>> upload_time_ms("2024-12-04T17:35:26.475213Z")
    '2024-12-04T17:35:26.475Z'
    >>> upload_time_ms("2026-11-06T17:37:01.000Z")
    '2026-11-06T17:37:01Z'
    """
    if not text:
        return None
    match = _UTC.fullmatch(text)
    if match is not None:  # the usual shape, without building a datetime
        millis = (match.group(2) or "")[:3].ljust(3, "0").rstrip("0")
        return f"{match.group(1)}.{millis}Z" if millis else f"{match.group(1)}Z"
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    out = when.strftime("%Y-%m-%dT%H:%M:%S")
    millis = when.microsecond // 1000
    if millis:
        out += f".{millis:03d}".rstrip("0")
    return out + "Z"


def _bounds(requires_python: SpecifierSet) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(lowest admitted major.minor, highest admitted major.minor or None)."""
    lower = (0, 0)
    upper: tuple[int, int] | None = None
    for spec in requires_python:
        try:
            release = Version(spec.version.replace(".*", "")).release
        except ValueError:
            continue
        mm = (release[0], release[1] if len(release) > 1 else 0)
        op = spec.operator
        if op in (">=", ">", "~=", "==", "==="):
            if op == ">" and len(release) <= 2:
                mm = (mm[0], mm[1] + 1)
            lower = max(lower, mm)
        if op in ("<", "<=", "==", "===", "~="):
            top = mm
            if op == "<" and (len(release) <= 2 or not any(release[2:])):
                top = (mm[0], mm[1] - 1) if mm[1] > 0 else (mm[0] - 1, 99)
            if op == "~=":
                top = (release[0] + 1, 0) if len(release) <= 2 else (release[0], release[1])
            upper = top if upper is None else min(upper, top)
    return lower, upper


def wheel_matches_python(filename: str, requires_python: SpecifierSet) -> bool:
    """Can some Python that ``requires_python`` admits use this wheel (by its tags only)?"""
    parts = filename[: -len(".whl")].split("-")
    if len(parts) < 5:
        return True
    return _tags_match(parts[-3], parts[-2], str(requires_python))


@lru_cache(maxsize=4096)
def _tags_match(python_tags: str, abi_tags: str, requires_python: str) -> bool:
    """Can some Python that ``requires_python`` admits use this wheel (by its tags only)?

    The rules uv applies: abi3 wheels always can; ``none``-ABI wheels by their
    Python tag (``py2`` never, ``pyXY`` when X.Y is not above the upper bound,
    ``cpXY`` only inside the range); CPython/PyPy ABIs only inside the range.
    """
    lower, upper = _bounds(SpecifierSet(requires_python))

    def inside(mm: tuple[int, int], *, need_lower: bool = True) -> bool:
        """X.Y is in range; never for Python 2 (one rule for every kind of tag below)."""
        if mm[0] == 2:
            return False
        if need_lower and mm < lower:
            return False
        return not (upper is not None and mm > upper)

    pythons, abis = python_tags.split("."), abi_tags.split(".")
    for abi in abis:
        if abi == "abi3":
            return True
        if abi == "none":
            for py in pythons:
                match = _PY.match(py)
                if match:
                    major = int(match.group(1))
                    if major != 2 and (
                        match.group(2) is None
                        or inside((major, int(match.group(2))), need_lower=False)
                    ):
                        return True
                    continue
                match = _CP.match(py)
                if match:
                    if inside((int(match.group(1)), int(match.group(2)))):
                        return True
                    continue
                return True  # unknown tag: allowed
            continue
        # graalpy250_312_native: GraalPy 25.0 for Python 3.12
        abi_py = "cp" + abi.split("_")[1] if abi.startswith("graalpy") and "_" in abi else abi
        match = re.match(r"^(?:cp|pypy)(\d)(\d+)", abi_py)
        if match:
            if inside((int(match.group(1)), int(match.group(2)))):
                return True
            continue
        return True
    return False


def _locator(file: DistFile) -> str:
    return file.url.split("#", 1)[0]


def artifact(file: DistFile) -> Artifact:
    """A registry file entry: url, hash, size, upload-time."""
    return Artifact(
        url=_locator(file),
        hash=strongest_hash(file.hashes),
        size=file.size,
        upload_time=upload_time_ms(file.upload_time),
    )


def select_files(
    files: Sequence[DistFile],
    requires_python: SpecifierSet,
    keep: Callable[[str], bool] | None = None,
) -> tuple[Artifact | None, tuple[Artifact, ...]]:
    """``(sdist, wheels)`` as uv records them for one locked version.

    ``keep(filename)`` may drop further wheels (platforms the package's markers
    make unreachable, :mod:`ghostenv.lock.reach`).
    """
    sdists = [f for f in files if not f.is_wheel]
    sdist = next((f for f in sdists if f.filename.endswith(".tar.gz")), None)
    if sdist is None and sdists:
        sdist = sdists[0]
    wheels = sorted(
        (
            f
            for f in files
            if f.is_wheel
            and wheel_matches_python(f.filename, requires_python)
            and (keep is None or keep(f.filename))
        ),
        key=lambda f: f.filename,
    )
    return (
        artifact(sdist) if sdist is not None else None,
        tuple(artifact(w) for w in wheels),
    )
