"""Python semantics of the provider: prereleases, yanked, locals, extras, markers, strategies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.python import Candidate, Metadata, Options, Target, resolve
from ghostenv.resolve.solver import SolveFailure

TARGET = Target.linux("3.12")


class Source:
    """``{name: {version: (requires, dict(Candidate fields))}}`` in memory."""

    def __init__(
        self,
        data: Mapping[str, Mapping[str, Sequence[str] | tuple[Sequence[str], dict[str, object]]]],
    ) -> None:
        self.data = data

    def versions(self, name: str) -> Sequence[Candidate]:
        out = []
        for version, spec in self.data.get(name, {}).items():
            extra = spec[1] if isinstance(spec, tuple) else {}
            fields: dict[str, object] = {"wheel_tags": ("py3-none-any",), **extra}
            out.append(Candidate(Version(version), **fields))  # type: ignore[arg-type]
        return out

    def metadata(self, name: str, version: Version) -> Metadata:
        for text, spec in self.data[name].items():
            if Version(text) == version:
                requires = spec[0] if isinstance(spec, tuple) else spec
                return Metadata(tuple(Requirement(r) for r in requires))
        raise KeyError(version)


def pins(source: Source, *reqs: str, **options: object) -> dict[str, str]:
    result = resolve(source, reqs, TARGET, Options(**options))  # type: ignore[arg-type]
    return {k: str(v) for k, v in result.items()}


PRE = Source({"a": {"1.0": [], "2.0b1": []}, "b": {"2.0b1": []}, "c": {"1.0": ["a>=2.0b1"]}})


def test_stable_preferred_even_when_a_prerelease_is_named() -> None:
    assert pins(PRE, "a>=1.0b1") == {"a": "1.0"}


def test_prerelease_taken_when_nothing_stable_fits() -> None:
    assert pins(PRE, "b") == {"b": "2.0b1"}
    assert pins(PRE, "c") == {"a": "2.0b1", "c": "1.0"}


def test_prerelease_allow_and_disallow() -> None:
    assert pins(PRE, "a", prerelease="allow") == {"a": "2.0b1"}
    with pytest.raises(SolveFailure) as failure:
        pins(PRE, "b", prerelease="disallow")
    assert failure.value.hint == "b has prereleases; allow them with --prerelease allow"


YANKED = Source({"a": {"1.0": [], "2.0": ([], {"yanked": True})}})


def test_yanked_skipped_unless_pinned() -> None:
    assert pins(YANKED, "a") == {"a": "1.0"}
    assert pins(YANKED, "a==2.0") == {"a": "2.0"}
    with pytest.raises(SolveFailure) as failure:
        pins(YANKED, "a>1.0")
    assert failure.value.hint == "a==2.0 matches but was yanked; pin it with == to use it"


def test_local_version_satisfies_plain_pin() -> None:
    source = Source({"torch": {"2.0": [], "2.0+cpu": []}})
    assert pins(source, "torch==2.0") == {"torch": "2.0+cpu"}


def test_extras_are_normalized_and_pin_the_base() -> None:
    source = Source(
        {
            "a": {"1.0": ['b; extra == "fancy-x"'], "2.0": ['b>=2; extra == "fancy-x"']},
            "b": {"1.0": [], "2.0": []},
        }
    )
    assert pins(source, "a[Fancy_X]<2") == {"a": "1.0", "b": "2.0"}
    assert pins(source, "a") == {"a": "2.0"}


def test_markers_are_evaluated_for_the_target() -> None:
    source = Source(
        {
            "a": {"1.0": ['w; sys_platform == "win32"', 'l; python_version >= "3.12"']},
            "l": {"1.0": []},
        }
    )
    assert pins(source, "a") == {"a": "1.0", "l": "1.0"}


def test_requires_python_and_wheel_tags_make_versions_unavailable() -> None:
    source = Source(
        {
            "a": {
                "3.0": ([], {"requires_python": SpecifierSet(">=3.13")}),
                "2.0": ([], {"wheel_tags": ("cp312-cp312-win_amd64",)}),
                "1.0": [],
            }
        }
    )
    assert pins(source, "a") == {"a": "1.0"}
    with pytest.raises(SolveFailure) as failure:
        pins(source, "a>=2")
    assert str(failure.value) == (
        "Because a>1.0,<3.0 has no wheel for the target platform and a>2.0 requires "
        "Python>=3.13, but the target is Python 3.12.0, a>1.0 cannot be used.\n"
        "And because you require a>=2, your requirements are unsatisfiable."
    )


STRATEGY = Source({"a": {"1.0": ["b"], "2.0": ["b"]}, "b": {"1.0": [], "2.0": []}})


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [
        ("highest", {"a": "2.0", "b": "2.0"}),
        ("lowest", {"a": "1.0", "b": "1.0"}),
        ("lowest-direct", {"a": "1.0", "b": "2.0"}),
    ],
)
def test_resolution_strategies(resolution: str, expected: dict[str, str]) -> None:
    assert pins(STRATEGY, "a", resolution=resolution) == expected


def test_preferences_keep_locked_versions() -> None:
    assert pins(STRATEGY, "a", preferences={"b": Version("1.0")}) == {"a": "2.0", "b": "1.0"}
    assert pins(STRATEGY, "a", "b>=2", preferences={"b": Version("1.0")}) == {
        "a": "2.0",
        "b": "2.0",
    }


class PrefetchingSource(Source):
    def __init__(self, data: Mapping[str, Mapping[str, Sequence[str]]]) -> None:
        super().__init__(data)
        self.events: list[tuple[str, str]] = []

    def prefetch(self, names: list[str]) -> None:
        self.events += [("hint", n) for n in names]

    def versions(self, name: str) -> Sequence[Candidate]:
        self.events.append(("ask", name))
        return super().versions(name)


def test_prefetch_hint_names_packages_before_they_are_asked_for() -> None:
    source = PrefetchingSource({"a": {"1.0": ["B[x]>=1", "c"]}, "b": {"1.0": []}, "c": {"1.0": []}})
    assert pins(source, "a") == {"a": "1.0", "b": "1.0", "c": "1.0"}
    asked = [n for kind, n in source.events if kind == "ask"]
    assert sorted(asked) == ["a", "b", "c"]
    for name in asked:
        assert source.events.index(("hint", name)) < source.events.index(("ask", name))
