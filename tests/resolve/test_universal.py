"""Universal resolution on small in-memory registries, checked against what uv 0.13.9 writes.

The first case is the complete example of the uv.lock spec (real uv output):
its forks, resolution-markers and every edge marker must come out the same.
"""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.solver import SolveFailure
from ghostenv.resolve.universal import Edge, RootSpec, UniversalResolution, resolve_universal
from tests.resolve.universal_registry import Registry


def _root(
    deps: list[str],
    optional: dict[str, list[str]] | None = None,
    groups: dict[str, list[str]] | None = None,
) -> RootSpec:
    return RootSpec(
        "demo",
        tuple(Requirement(d) for d in deps),
        {k: tuple(Requirement(r) for r in v) for k, v in (optional or {}).items()},
        {k: tuple(Requirement(r) for r in v) for k, v in (groups or {}).items()},
    )


def _package(result: UniversalResolution, name: str, version: str):  # type: ignore[no-untyped-def]
    return next(p for p in result.packages if p.name == name and str(p.version) == version)


def test_spec_example_matches_uv() -> None:
    registry = Registry(
        {
            "colorama": {"0.4.6": ("", [])},
            "idna": {"3.20": (">=3.8", [])},
            "six": {"1.17.0": ("", [])},
            "iniconfig": {"2.1.0": (">=3.8", []), "2.3.1": (">=3.10", [])},
        }
    )
    root = _root(
        ["idna>=3", "colorama; sys_platform == 'win32'"], {"cli": ["six"]}, {"dev": ["iniconfig"]}
    )
    result = resolve_universal(registry, root, SpecifierSet(">=3.9"))
    assert result.forks == ("python_full_version >= '3.10'", "python_full_version < '3.10'")
    assert result.root_dependencies == (
        Edge("colorama", None, "sys_platform == 'win32'", None),
        Edge("idna", None, None, None),
    )
    assert result.root_optional == (("cli", (Edge("six", None, None, None),)),)
    assert result.root_groups == (
        (
            "dev",
            (
                Edge("iniconfig", None, "python_full_version < '3.10'", Version("2.1.0")),
                Edge("iniconfig", None, "python_full_version >= '3.10'", Version("2.3.1")),
            ),
        ),
    )
    assert _package(result, "iniconfig", "2.1.0").resolution_markers == (
        "python_full_version < '3.10'",
    )
    assert _package(result, "iniconfig", "2.3.1").resolution_markers == (
        "python_full_version >= '3.10'",
    )
    assert _package(result, "idna", "3.20").resolution_markers == ()
    assert [(p.name, str(p.version)) for p in result.packages] == [
        ("colorama", "0.4.6"),
        ("idna", "3.20"),
        ("iniconfig", "2.1.0"),
        ("iniconfig", "2.3.1"),
        ("six", "1.17.0"),
    ]


def test_diverging_markers_fork_and_edges_follow_the_parent() -> None:
    registry = Registry(
        {
            "numpy": {"1.26.4": ("", []), "2.0.0": ("", [])},
            "lib": {"1.0": ("", ["numpy", "tomli; python_version < '3.11'"])},
            "tomli": {"2.0": ("", [])},
        }
    )
    root = _root(["numpy<2; python_version < '3.10'", "numpy>=2; python_version >= '3.10'", "lib"])
    result = resolve_universal(registry, root, SpecifierSet(">=3.9"))
    assert result.forks == ("python_full_version >= '3.10'", "python_full_version < '3.10'")
    lib = _package(result, "lib", "1.0")
    assert lib.dependencies == (
        Edge("numpy", None, "python_full_version < '3.10'", Version("1.26.4")),
        Edge("numpy", None, "python_full_version >= '3.10'", Version("2.0.0")),
        Edge("tomli", None, "python_full_version < '3.11'", None),
    )


def test_extra_dependency_gives_base_and_extra_edges() -> None:
    registry = Registry(
        {
            "psycopg": {
                "1.0": ("", ["tzdata; sys_platform == 'win32'", "binary; extra == 'binary'"])
            },
            "binary": {"1.0": ("", [])},
            "tzdata": {"1.0": ("", [])},
        }
    )
    # packse marker-variants-have-different-extras; uv forks on the two markers.
    root = _root(
        [
            "psycopg[binary]; platform_python_implementation != 'PyPy'",
            "psycopg; platform_python_implementation == 'PyPy'",
        ]
    )
    result = resolve_universal(registry, root, SpecifierSet(">=3.12"))
    assert result.forks == (
        "platform_python_implementation != 'PyPy'",
        "platform_python_implementation == 'PyPy'",
    )
    assert result.root_dependencies == (
        Edge("psycopg", None, None, None),
        Edge("psycopg", "binary", "platform_python_implementation != 'PyPy'", None),
    )
    psycopg = _package(result, "psycopg", "1.0")
    assert psycopg.optional == (("binary", (Edge("binary", None, None, None),)),)
    assert psycopg.dependencies == (Edge("tzdata", None, "sys_platform == 'win32'", None),)


def test_failure_in_one_fork_names_the_fork() -> None:
    registry = Registry(
        {
            "a": {"1.0": ("", ["c==1"])},
            "b": {"1.0": ("", ["c==2"])},
            "c": {"1.0": ("", []), "2.0": ("", [])},
        }
    )
    root = _root(["a; sys_platform == 'linux'", "b", "a; sys_platform == 'darwin'"])
    with pytest.raises(SolveFailure) as caught:
        resolve_universal(registry, root, SpecifierSet(">=3.12"))
    message = str(caught.value)
    assert message.startswith("No solution found when resolving dependencies for split (markers: ")
    assert "your project depends on" in message
    assert "@" not in message


def test_requires_python_fork_keeps_newest_for_new_pythons() -> None:
    registry = Registry({"tool": {"1.0": (">=3.8", []), "2.0": (">=3.11", [])}})
    result = resolve_universal(registry, _root(["tool"]), SpecifierSet(">=3.9"))
    assert result.forks == ("python_full_version >= '3.11'", "python_full_version < '3.11'")
    assert result.root_dependencies == (
        Edge("tool", None, "python_full_version < '3.11'", Version("1.0")),
        Edge("tool", None, "python_full_version >= '3.11'", Version("2.0")),
    )


def test_project_extra_that_includes_another_extra() -> None:
    registry = Registry({"six": {"1.17.0": ("", [])}, "rich": {"14.0": ("", [])}})
    root = _root([], {"cli": ["six"], "all": ["demo[cli]", "rich"]}, {"dev": ["demo[cli]"]})
    result = resolve_universal(registry, root, SpecifierSet(">=3.9"))
    # uv writes the requirements of the included extra in its place.
    assert result.root_optional == (
        ("all", (Edge("rich", None, None, None), Edge("six", None, None, None))),
        ("cli", (Edge("six", None, None, None),)),
    )
    assert result.root_groups == (("dev", (Edge("six", None, None, None),)),)


def test_relock_seeded_with_the_lock_keeps_forks_and_versions() -> None:
    registry = Registry(
        {"tool": {"1.0": (">=3.8", []), "2.0": (">=3.11", []), "2.1": (">=3.11", [])}}
    )
    root = _root(["tool"])
    first = resolve_universal(registry, root, SpecifierSet(">=3.9"))
    preferences = [
        (p.name, p.version, " or ".join(f"({m})" for m in p.resolution_markers) or None)
        for p in first.packages
    ]
    # A newer release appeared since: the seeded re-lock keeps the locked one.
    registry.packages["tool"]["2.2"] = (">=3.11", [])
    again = resolve_universal(
        registry, root, SpecifierSet(">=3.9"), forks=first.forks, preferences=preferences
    )
    assert again == first
    fresh = resolve_universal(registry, root, SpecifierSet(">=3.9"))
    assert _package(fresh, "tool", "2.2").resolution_markers == ("python_full_version >= '3.11'",)


def test_environments_seed_the_forks_and_bound_the_edges() -> None:
    """`[tool.uv] environments` as seed forks (uv's supported-markers): only those platforms
    are resolved, and edge markers are written relative to them."""
    registry = Registry(
        {
            "a": {"1.0": ("", [])},
            "winonly": {"1.0": ("", [])},
            "tool": {"1.0": ("", []), "2.0": (">=3.11", [])},
        }
    )
    root = _root(["a", "winonly; sys_platform == 'win32'", "tool"])
    result = resolve_universal(
        registry,
        root,
        SpecifierSet(">=3.10"),
        forks=["sys_platform == 'linux'", "sys_platform == 'darwin'"],
    )
    assert result.forks == (
        "python_full_version >= '3.11' and sys_platform == 'linux'",
        "python_full_version < '3.11' and sys_platform == 'linux'",
        "python_full_version >= '3.11' and sys_platform == 'darwin'",
        "python_full_version < '3.11' and sys_platform == 'darwin'",
    )
    assert result.root_dependencies == (
        Edge("a", None, None, None),
        Edge("tool", None, "python_full_version < '3.11'", Version("1.0")),
        Edge("tool", None, "python_full_version >= '3.11'", Version("2.0")),
    )
    assert "winonly" not in {p.name for p in result.packages}
