"""``--python-platform`` names as uv spells them: wheel platform tags and marker values.

Used by :meth:`ghostenv.resolve.python.Target.for_platform`. The marker values were
checked against uv 0.13.9 itself (``platform_machine`` is ``AMD64`` on Windows x86_64,
``arm64`` on Apple silicon, ``aarch64`` on Linux ARM).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlatformSpec", "platform_spec"]


@dataclass(frozen=True, slots=True)
class PlatformSpec:
    """What a ``--python-platform`` name means: wheel platform tags and marker values."""

    platforms: tuple[str, ...]
    machine: str
    os_name: str
    sys_platform: str
    system: str


def _manylinux(arch: str, top: int) -> tuple[str, ...]:
    """manylinux_2_top down to manylinux_2_5 for ``arch``, with the legacy aliases."""
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    out: list[str] = []
    for minor in range(top, 4, -1):
        out.append(f"manylinux_2_{minor}_{arch}")
        # manylinux2010 and manylinux1 were only defined for x86_64 and i686
        if minor in legacy and (minor == 17 or arch in ("x86_64", "i686")):
            out.append(f"{legacy[minor]}_{arch}")
    return tuple(out)


def _macos(arch: str) -> tuple[str, ...]:
    import os

    from packaging.tags import mac_platforms

    target = os.environ.get("MACOSX_DEPLOYMENT_TARGET", "13.0")
    try:
        major, _, minor = target.partition(".")
        version = (int(major), int(minor or 0))
    except ValueError:
        version = (13, 0)
    return tuple(mac_platforms(version, arch))


def platform_spec(name: str) -> PlatformSpec:
    """What uv's ``--python-platform`` ``name`` means; ValueError for an unknown name."""
    aliases = {"linux": "x86_64-unknown-linux-gnu", "macos": "aarch64-apple-darwin",
               "windows": "x86_64-pc-windows-msvc"}
    name = aliases.get(name, name)
    arch, _, rest = name.partition("-")
    windows = {"x86_64": ("win_amd64", "AMD64"), "i686": ("win32", "x86"),
               "aarch64": ("win_arm64", "ARM64")}
    if rest == "pc-windows-msvc" and arch in windows:
        tag, machine = windows[arch]
        return PlatformSpec((tag,), machine, "nt", "win32", "Windows")
    if rest == "apple-darwin" and arch in ("x86_64", "aarch64"):
        mac_arch = "arm64" if arch == "aarch64" else "x86_64"
        return PlatformSpec(_macos(mac_arch), mac_arch, "posix", "darwin", "Darwin")
    linux_arches = ("x86_64", "aarch64", "i686", "armv7l", "ppc64le", "s390x", "riscv64")
    if arch in linux_arches:
        if rest == "unknown-linux-gnu":
            return PlatformSpec(_manylinux(arch, 28), arch, "posix", "linux", "Linux")
        if rest == "unknown-linux-musl":
            musl = tuple(f"musllinux_1_{m}_{arch}" for m in (2, 1, 0))
            return PlatformSpec(musl, arch, "posix", "linux", "Linux")
        if rest == "manylinux2014":
            return PlatformSpec(_manylinux(arch, 17), arch, "posix", "linux", "Linux")
        if rest.startswith("manylinux_2_") and rest[len("manylinux_2_"):].isdigit():
            top = int(rest[len("manylinux_2_"):])
            if top >= 5:
                return PlatformSpec(_manylinux(arch, top), arch, "posix", "linux", "Linux")
    msg = f"unknown platform {name!r}"
    raise ValueError(msg)
