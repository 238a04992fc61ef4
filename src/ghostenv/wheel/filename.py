"""Wheel file names, and which ``.dist-info/METADATA`` a wheel must carry.

The wheel spec names the directory ``{distribution}-{version}.dist-info``; tools
differ in how they escape the name (``foo_bar`` vs ``foo.bar``) and version, so
both sides are normalized before comparing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ghostenv.errors import WheelError

if TYPE_CHECKING:
    from packaging.version import Version

    from ghostenv.wheel.zipreader import CentralDirectory


@dataclass(frozen=True, slots=True)
class WheelName:
    """The parsed parts of a wheel file name."""

    filename: str
    name: str  # canonicalized
    version: Version
    build: tuple[()] | tuple[int, str]
    tags: frozenset[str]


def parse_wheel_name(filename: str) -> WheelName:
    """Parse ``name-version(-build)?-py-abi-plat.whl`` or raise WheelError."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        name, version, build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise WheelError(f"{filename}: not a valid wheel file name ({exc})",
                         hint="wheel names look like name-1.0-py3-none-any.whl") from exc
    return WheelName(filename, str(name), version, build, frozenset(str(t) for t in tags))


def select_metadata(central: CentralDirectory, wheel: WheelName) -> int:
    """Index of the one ``<name>-<version>.dist-info/METADATA`` matching the wheel's name."""
    found = [i for i in central.find_suffix(".dist-info/METADATA")
             if central.name(i).count("/") == 1]
    label = wheel.filename
    if not found:
        raise WheelError(f"{label}: no .dist-info/METADATA in the archive",
                         hint="this is not a valid wheel")
    if len(found) > 1:
        listed = ", ".join(sorted(central.name(i) for i in found))
        raise WheelError(f"{label}: {len(found)} METADATA files ({listed})",
                         hint="a wheel must contain exactly one .dist-info directory")
    index = found[0]
    stem = central.name(index)[: -len(".dist-info/METADATA")]
    if not matches_wheel(central.name(index), wheel):
        raise WheelError(f"{label}: dist-info directory {stem}.dist-info does not match "
                         f"the file name ({wheel.name} {wheel.version})",
                         hint="the wheel was renamed or built wrongly; rebuild it")
    return index


def matches_wheel(name: str, wheel: WheelName) -> bool:
    """Whether ``name`` is ``<dist>-<version>.dist-info/METADATA`` for this wheel."""
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if not name.endswith(".dist-info/METADATA") or name.count("/") != 1:
        return False
    dist, _, ver = name[: -len(".dist-info/METADATA")].rpartition("-")
    try:
        return bool(dist) and canonicalize_name(dist) == wheel.name \
            and Version(ver) == wheel.version
    except InvalidVersion:
        return False
