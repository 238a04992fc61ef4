"""Which platforms can reach each locked package, to drop wheels no environment would use.

uv leaves out of uv.lock the platform wheels that the package's own markers make
unreachable: greenlet, required by SQLAlchemy only under
``platform_machine == 'x86_64' or ... 'aarch64' or ... 'ppc64le' ...``, is locked
without its s390x and riscv64 wheels. (The Python dimension is *not* used:
a package locked only for ``<3.10`` keeps its cp310+ wheels; that part is the
lock-wide requires-python filter of :mod:`ghostenv.lock.artifacts`.)

Markers are evaluated, not solved: every edge marker is turned into a bit mask
over a grid of environments (each platform some wheel of the resolution names
× the Pythons the lock admits × CPython/PyPy), reachability is propagated from
the root through the graph (``reach(child) |= reach(parent) & edge``), and a
wheel is kept when its platform's environments meet the package's reach. A
wheel whose tags name no known platform is always kept. Windows wheels are
matched on ``sys_platform`` alone (uv keeps greenlet's win_arm64 wheel although
the marker names no ARM64 machine), and a macOS arm64 wheel serves both
``arm64`` and ``aarch64`` (packse ``specific-architecture``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker, UndefinedEnvironmentName
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if TYPE_CHECKING:
    from ghostenv.index import DistFile
    from ghostenv.resolve.universal import Edge, UniversalResolution

Platform = tuple[str, str]  # (sys_platform, platform_machine); machine "*" = any
_SYSTEM = {"linux": ("Linux", "posix"), "win32": ("Windows", "nt"), "darwin": ("Darwin", "posix")}
_WINDOWS_MACHINES = ("AMD64", "x86", "ARM64")
# uv keeps a macOS arm64 wheel for a package reached under platform_machine == 'aarch64'
# (packse specific-architecture): an Apple-silicon machine answers to both spellings.
_MAC_MACHINES = {"arm64": ("arm64", "aarch64")}
_MAC_ARCHES = {
    "universal2": ("x86_64", "arm64"),
    "universal": ("x86_64", "i386", "ppc", "ppc64"),
    "intel": ("x86_64", "i386"),
    "fat": ("i386", "ppc"),
    "fat3": ("x86_64", "i386", "ppc"),
    "fat32": ("i386", "ppc"),
    "fat64": ("x86_64", "ppc64"),
}


def tag_platforms(filename: str) -> frozenset[Platform] | None:
    """The platforms a wheel serves, from its platform tags; None = any/unknown (keep it)."""
    plat_field = filename[: -len(".whl")].rsplit("-", maxsplit=1)[-1]
    out: set[Platform] = set()
    for tag in plat_field.split("."):
        if tag == "any":
            return None
        if tag.startswith(("manylinux", "musllinux", "linux_")):
            parts = tag.split("_")
            if tag.startswith(("manylinux1_", "manylinux2010_", "manylinux2014_", "linux_")):
                arch = "_".join(parts[1:])
            else:
                arch = "_".join(parts[3:])
            out.add(("linux", arch))
        elif tag.startswith("win"):
            out.add(("win32", "*"))
        elif tag.startswith("macosx_"):
            arch = "_".join(tag.split("_")[3:])
            for machine in _MAC_ARCHES.get(arch, (arch,)):
                out.add(("darwin", machine))
        else:
            return None
    return frozenset(out)


def _pythons(requires_python: SpecifierSet) -> list[str]:
    found = [f"3.{minor}.0" for minor in range(20) if requires_python.contains(f"3.{minor}.0")]
    return found or ["3.99.0"]


class Grid:
    """Environments as bit positions; a marker becomes the mask of environments it holds in."""

    def __init__(self, platforms: Iterable[Platform], requires_python: SpecifierSet) -> None:
        self.envs: list[dict[str, str]] = []
        self.platform_bits: dict[Platform, int] = {}
        expanded: list[tuple[Platform, str]] = []
        for plat in sorted(set(platforms)):
            if plat == ("win32", "*"):
                machines: tuple[str, ...] = _WINDOWS_MACHINES
            elif plat[0] == "darwin":
                machines = _MAC_MACHINES.get(plat[1], (plat[1],))
            else:
                machines = (plat[1],)
            expanded += [(plat, m) for m in machines]
        for plat, machine in expanded:
            system, os_name = _SYSTEM.get(plat[0], ("", "posix"))
            for python in _pythons(requires_python):
                for impl, pimpl in (("cpython", "CPython"), ("pypy", "PyPy")):
                    bit = 1 << len(self.envs)
                    self.platform_bits[plat] = self.platform_bits.get(plat, 0) | bit
                    self.envs.append({
                        "sys_platform": plat[0], "platform_system": system, "os_name": os_name,
                        "platform_machine": machine, "python_full_version": python,
                        "python_version": python.rsplit(".", 1)[0],
                        "implementation_name": impl, "platform_python_implementation": pimpl,
                        "implementation_version": python, "platform_release": "",
                        "platform_version": "", "extra": "",
                    })
        self.all = (1 << len(self.envs)) - 1
        self._mask = lru_cache(maxsize=None)(self._compute)

    def _compute(self, marker: str) -> int:
        """Evaluate once per distinct value of the variables the marker names, not per env."""
        try:
            parsed = Marker(marker)
        except InvalidMarker:
            return self.all
        names = [k for k in self.envs[0] if k in marker] if self.envs else []
        verdicts: dict[tuple[str, ...], bool] = {}
        mask = 0
        for i, env in enumerate(self.envs):
            key = tuple(env[k] for k in names)
            verdict = verdicts.get(key)
            if verdict is None:
                try:
                    verdict = bool(parsed.evaluate(env))
                except UndefinedEnvironmentName:
                    verdict = True
                verdicts[key] = verdict
            if verdict:
                mask |= 1 << i
        return mask

    def mask(self, marker: str | None) -> int:
        return self.all if marker is None else self._mask(marker)


def wheel_filter(
    resolution: UniversalResolution,
    files: Callable[[str, Version], Sequence[DistFile]],
    environments: Sequence[str] = (),
) -> Callable[[str, Version, str], bool]:
    """``keep(name, version, wheel_filename)`` for the wheels of ``resolution``.

    ``environments`` (``[tool.uv] environments``) bound the root: platforms
    outside them reach nothing, so their wheels are not recorded.
    """
    platforms: set[Platform] = set()
    for package in resolution.packages:
        for file in files(package.name, package.version):
            if file.is_wheel:
                platforms |= tag_platforms(file.filename) or set()
    if not platforms:
        return lambda _name, _version, _filename: True
    grid = Grid(platforms, resolution.requires_python)
    versions: dict[str, list[Version]] = {}
    for package in resolution.packages:
        versions.setdefault(package.name, []).append(package.version)

    def target(edge: Edge) -> tuple[str, Version] | None:
        found = versions.get(edge.name)
        if not found:
            return None
        return (edge.name, edge.version if edge.version is not None else found[0])

    children: dict[tuple[str, Version], list[Edge]] = {
        (p.name, p.version): [*p.dependencies, *(e for _, edges in p.optional for e in edges)]
        for p in resolution.packages
    }
    reach: dict[tuple[str, Version], int] = {}
    work: list[tuple[str, Version]] = []

    def push(edge: Edge, parent_mask: int) -> None:
        key = target(edge)
        if key is None:
            return
        new = reach.get(key, 0) | (parent_mask & grid.mask(edge.marker))
        if new != reach.get(key, 0):
            reach[key] = new
            work.append(key)

    root_mask = grid.all
    if environments:
        root_mask = 0
        for marker in environments:
            root_mask |= grid.mask(marker)
    for edge in (
        *resolution.root_dependencies,
        *(e for _, edges in resolution.root_optional for e in edges),
        *(e for _, edges in resolution.root_groups for e in edges),
    ):
        push(edge, root_mask)
    while work:
        key = work.pop()
        for edge in children.get(key, ()):
            push(edge, reach[key])

    def keep(name: str, version: Version, filename: str) -> bool:
        mask = reach.get((name, version), grid.all)
        if mask in (grid.all, 0):
            return True
        plats = tag_platforms(filename)
        if plats is None:
            return True
        return any(mask & grid.platform_bits.get(p, 0) for p in plats)

    return keep
