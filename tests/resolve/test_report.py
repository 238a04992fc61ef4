# ruff: noqa: E501
"""Failure reports, word for word, for the usual shapes of unsatisfiable problems."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from packaging.version import Version

from ghostenv.resolve.provider import InMemoryProvider, Unavailable
from ghostenv.resolve.solver import SolveFailure, solve
from ghostenv.resolve.version_set import VersionSet

Raw = Mapping[str, Mapping[str, Mapping[str, str] | str]]

SHAPES: dict[str, tuple[Raw, dict[str, str]]] = {
    "issue_example": (
        {
            "a": {"1.0": {"b": ">=2"}},
            "b": {"2.0": {"c": "<1"}, "1.0": {}},
            "c": {"0.5": {}, "1.0": {}},
        },
        {"a": "", "c": ">=1"},
    ),
    "no_versions": ({"a": {"1.0": {"b": ">=2"}}, "b": {"1.0": {}}}, {"a": ""}),
    "missing_package": ({"a": {"1.0": {"ghost": ""}}}, {"a": ""}),
    "root_direct_conflict": ({"a": {"1.0": {}, "2.0": {}}}, {"a": ">=2", "b": ""}),
    "root_vs_transitive": ({"a": {"1.0": {}}, "b": {"1.0": {"a": ">=2"}}}, {"a": "==1.0", "b": ""}),
    "linear_chain": (
        {
            "a": {"1": {"b": "==1"}},
            "b": {"1": {"c": "==1"}},
            "c": {"1": {"d": "==2"}},
            "d": {"1": {}},
        },
        {"a": ""},
    ),
    "branching": (
        {
            "foo": {"1.0": {"left": ">=1", "right": ">=1"}},
            "left": {"1.0": {"shared": ">=1"}},
            "right": {"1.0": {"shared": "<1"}},
            "shared": {"1.0": {}, "0.5": {}},
        },
        {"foo": ""},
    ),
    "backjump_two_versions": (
        {
            "foo": {"1.0": {"a": ">=1", "b": ">=1"}, "1.1": {"x": ">=1", "y": ">=1"}},
            "a": {"1.0": {"b": ">=2"}},
            "b": {"1.0": {}, "2.0": {"c": ">=1"}},
            "c": {},
            "x": {"1.0": {"y": ">=2"}},
            "y": {"1.0": {}, "2.0": {"z": ">=1"}},
            "z": {},
        },
        {"foo": ""},
    ),
    "diamond": (
        {
            "a": {"1": {"b": "", "c": ""}},
            "b": {"1": {"d": "<2"}},
            "c": {"1": {"d": ">=2"}},
            "d": {"1": {}, "2": {}},
        },
        {"a": ""},
    ),
    "shared_subtree": (
        {
            "a": {"1": {"s": ""}, "2": {"s": "", "x": ""}},
            "b": {"1": {"s": ""}},
            "s": {"1": {"z": ">=5"}},
            "x": {"1": {}},
            "z": {"1": {}},
        },
        {"a": "", "b": ""},
    ),
    "every_version_conflicts": (
        {
            "a": {"1": {"c": "==1"}, "2": {"c": "==2"}, "3": {"c": "==3"}},
            "b": {"1": {"c": "==4"}},
            "c": {"1": {}, "2": {}, "3": {}, "4": {}},
        },
        {"a": "", "b": ""},
    ),
    "two_roots_disjoint": (
        {"a": {"1": {"b": "<1"}}, "c": {"1": {"b": ">=1"}}, "b": {"0.5": {}, "1": {}}},
        {"a": "", "c": ""},
    ),
    "numbered_shared_fact": (
        {
            "a": {"1": {"c": "==1"}, "2": {}},
            "b": {"1": {"a": "<2"}, "2": {"a": "<2", "c": ">=2"}},
            "c": {"1": {"a": "==2"}, "2": {"b": "<2"}, "3": {"a": "==1"}},
        },
        {"a": "", "b": ""},
    ),
    "unavailable": (
        {"a": {"1": {"b": ""}}, "b": {"1": "has no wheel for the target platform"}},
        {"a": ""},
    ),
}

EXPECTED = {
    "issue_example": """\
Because a depends on b>=2 and b>1.0 depends on c<1, a requires c<1.
And because you require a and you require c>=1, your requirements are unsatisfiable.
""",
    "no_versions": """\
Because you require a and a depends on b>=2, b>=2 is required.
And because there is no version of b>=2, your requirements are unsatisfiable.
""",
    "missing_package": """\
Because you require a and a depends on ghost, ghost is required.
And because there is no version of ghost, your requirements are unsatisfiable.
""",
    "root_direct_conflict": """\
Because you require b and there is no version of b, your requirements are unsatisfiable.
""",
    "root_vs_transitive": """\
Because b depends on a>=2 and you require a==1.0, b cannot be used.
And because you require b, your requirements are unsatisfiable.
""",
    "linear_chain": """\
Because you require a and a depends on b==1, b==1 is required.
And because b depends on c==1, c==1 is required.
And because c depends on d==2 and there is no version of d==2, your requirements are unsatisfiable.
""",
    "branching": """\
Because left depends on shared>=1 and right depends on shared<1, left and right are incompatible.
And because foo depends on left>=1, right and foo are incompatible.
And because foo depends on right>=1 and you require foo, your requirements are unsatisfiable.
""",
    "backjump_two_versions": """\
Because foo<1.1 depends on a>=1 and a depends on b>=2, foo<1.1 requires b>=2.
And because b>1.0 depends on c>=1, foo<1.1 requires c>=1.
And because there is no version of c>=1 and you require foo, foo>=1.1 is required.
And because foo>1.0 depends on x>=1 and x depends on y>=2, y>=2 is required.
And because y>1.0 depends on z>=1 and there is no version of z>=1, your requirements are unsatisfiable.
""",
    "diamond": """\
Because b depends on d<2 and c depends on d>=2, b and c are incompatible.
And because a depends on b, c and a are incompatible.
And because a depends on c and you require a, your requirements are unsatisfiable.
""",
    "shared_subtree": """\
Because you require b and b depends on s, s is required.
And because s depends on z>=5 and there is no version of z>=5, your requirements are unsatisfiable.
""",
    "every_version_conflicts": """\
Because a<2 depends on c==1 and a>1,<3 depends on c==2, a<3 requires c==1 | c==2.
And because a>2 depends on c==3 and b depends on c==4, b and a are incompatible.
And because you require a and you require b, your requirements are unsatisfiable.
""",
    "two_roots_disjoint": """\
Because a depends on b<1 and c depends on b>=1, a and c are incompatible.
And because you require a and you require c, your requirements are unsatisfiable.
""",
    "numbered_shared_fact": """\
Because you require b and b depends on a<2, a<2 is required. (1)

Because a<2 depends on c==1 and c<2 depends on a==2, a<2 cannot be used.
And because a<2 is required (1), your requirements are unsatisfiable.
""",
    "unavailable": """\
Because you require a and a depends on b, b is required.
And because b has no wheel for the target platform, your requirements are unsatisfiable.
""",
}


def registry(raw: Raw) -> dict[str, dict[Version, Mapping[str, VersionSet] | Unavailable]]:
    return {
        name: {
            Version(v): Unavailable(deps)
            if isinstance(deps, str)
            else {d: VersionSet.parse(s) for d, s in deps.items()}
            for v, deps in versions.items()
        }
        for name, versions in raw.items()
    }


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_report_word_for_word(shape: str) -> None:
    raw, root = SHAPES[shape]
    with pytest.raises(SolveFailure) as failure:
        solve(InMemoryProvider(registry(raw)), {k: VersionSet.parse(v) for k, v in root.items()})
    assert str(failure.value) + "\n" == EXPECTED[shape]


def test_report_numbers_a_fact_used_twice() -> None:
    assert "(1)" in EXPECTED["numbered_shared_fact"]
    assert EXPECTED["numbered_shared_fact"].count("a<2 is required (1)") == 1
