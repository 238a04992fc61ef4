"""``--python-platform`` targets for Linux, macOS and Windows, named and interpreted as uv does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from packaging.tags import Tag

from ghostenv.resolve.python import Target
from tests.conftest import run_ghostenv

# platform_machine per target as uv 0.13.9 evaluates it (measured with `uv pip compile
# --python-platform P` on a requirements file of one `platform_machine == X` line per value)
UV_MACHINE = {
    "x86_64-pc-windows-msvc": "AMD64",
    "windows": "AMD64",
    "i686-pc-windows-msvc": "x86",
    "aarch64-apple-darwin": "arm64",
    "macos": "arm64",
    "x86_64-apple-darwin": "x86_64",
    "aarch64-unknown-linux-gnu": "aarch64",
    "linux": "x86_64",
}


OS = {"nt": ("nt", "win32", "Windows"), "mac": ("posix", "darwin", "Darwin"),
      "linux": ("posix", "linux", "Linux")}


@pytest.mark.parametrize(("platform", "machine"), sorted(UV_MACHINE.items()))
def test_markers_like_uv(platform: str, machine: str) -> None:
    markers = Target.for_platform("3.12", platform).markers
    assert markers["platform_machine"] == machine
    family = ("nt" if "windows" in platform else
              "mac" if "darwin" in platform or platform == "macos" else "linux")
    assert (markers["os_name"], markers["sys_platform"], markers["platform_system"]) \
        == OS[family]


def test_wheel_tags_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MACOSX_DEPLOYMENT_TARGET", raising=False)
    windows = Target.for_platform("3.12", "x86_64-pc-windows-msvc").tags
    assert Tag("cp312", "cp312", "win_amd64") in windows
    assert Tag("py3", "none", "any") in windows
    assert not any("linux" in t.platform or "macosx" in t.platform for t in windows)
    x86 = Target.for_platform("3.12", "i686-pc-windows-msvc").tags
    assert Tag("cp312", "cp312", "win32") in x86
    arm = Target.for_platform("3.12", "macos").tags
    assert Tag("cp312", "cp312", "macosx_13_0_arm64") in arm
    assert Tag("cp312", "abi3", "macosx_11_0_universal2") in arm
    assert Tag("cp312", "cp312", "macosx_14_0_arm64") not in arm  # uv assumes macOS 13.0
    assert not any(t.platform.endswith("_x86_64") for t in arm)
    intel = Target.for_platform("3.12", "x86_64-apple-darwin").tags
    assert Tag("cp312", "cp312", "macosx_10_9_x86_64") in intel
    monkeypatch.setenv("MACOSX_DEPLOYMENT_TARGET", "11.0")
    older = Target.for_platform("3.12", "aarch64-apple-darwin").tags
    assert Tag("cp312", "cp312", "macosx_12_0_arm64") not in older
    assert Tag("cp312", "cp312", "macosx_11_0_arm64") in older


def test_linux_flavours() -> None:
    gnu = Target.for_platform("3.12", "linux").tags  # uv: x86_64-manylinux_2_28
    assert Tag("cp312", "cp312", "manylinux_2_28_x86_64") in gnu
    assert Tag("cp312", "cp312", "manylinux_2_29_x86_64") not in gnu
    assert Tag("cp312", "cp312", "manylinux1_x86_64") in gnu
    assert Tag("cp312", "cp312", "linux_x86_64") not in gnu  # not portable: never for a target
    aarch = Target.for_platform("3.12", "aarch64-manylinux2014").tags
    assert Tag("cp312", "cp312", "manylinux2014_aarch64") in aarch
    assert not any(t.platform.startswith(("manylinux1", "manylinux2010")) for t in aarch)
    musl = Target.for_platform("3.12", "x86_64-unknown-linux-musl").tags
    assert Tag("cp312", "cp312", "musllinux_1_2_x86_64") in musl
    assert not any("manylinux" in t.platform for t in musl)
    for bad in ("sparc-sun-solaris", "x86_64-manylinux_2_x", "darwin"):
        with pytest.raises(ValueError, match="unknown platform"):
            Target.for_platform("3.12", bad)


def _resolve(index: Any, platform: str, *reqs: str) -> Any:
    return run_ghostenv("resolve", *reqs, "--index-url", index.simple_url, "--python-version",
                        "3.12", "--python-platform", platform, "--json")


def test_cli_markers_and_wheels_follow_the_platform(fixture_index: Any) -> None:
    """alpha[docs] wants epsilon-tool except on win32; gamma has a manylinux wheel."""
    chosen = {}
    for platform in ("x86_64-pc-windows-msvc", "aarch64-apple-darwin", "linux"):
        proc = _resolve(fixture_index, platform, "alpha[docs]")
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        chosen[platform] = {p["name"]: p["file"]["filename"] for p in doc["packages"]}
    assert "epsilon-tool" not in chosen["x86_64-pc-windows-msvc"]
    assert "epsilon-tool" in chosen["aarch64-apple-darwin"]
    assert chosen["x86_64-pc-windows-msvc"]["gamma"] == "gamma-1.0.0-py3-none-any.whl"
    assert chosen["aarch64-apple-darwin"]["gamma"] == "gamma-1.0.0-py3-none-any.whl"
    assert chosen["linux"]["gamma"].endswith("manylinux2014_x86_64.whl")
    bad = _resolve(fixture_index, "sparc-sun-solaris", "alpha")
    assert bad.returncode == 2
    assert "unsupported platform" in bad.stderr
