"""Version sets behave as sets of PEP 440 versions (checked against SpecifierSet)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve.term import Relation, Term
from ghostenv.resolve.version_set import VersionSet

VERSIONS = [
    Version(v)
    for v in (
        "0.9",
        "1.0a1",
        "1.0",
        "1.0+cpu",
        "1.0.post1",
        "1.1.dev0",
        "1.1",
        "1.5",
        "2.0rc1",
        "2.0",
        "3",
    )
]
SPECS = [
    "",
    ">=1.0",
    "<2",
    "==1.*",
    "~=1.1",
    "!=1.5",
    "==1.0",
    ">1.0",
    "<=1.5",
    "==2.0rc1",
    ">=1,<2",
]


@pytest.mark.parametrize("spec", SPECS)
def test_membership_matches_specifier(spec: str) -> None:
    vs = VersionSet.parse(spec)
    ss = SpecifierSet(spec, prereleases=True)
    for v in VERSIONS:
        assert vs.contains(v) == ss.contains(v), (spec, v)


specs = st.lists(st.sampled_from(SPECS), min_size=1, max_size=3).map(
    lambda xs: ",".join(x for x in xs if x)
)


@given(specs, specs)
def test_algebra(a: str, b: str) -> None:
    x, y = VersionSet.parse(a), VersionSet.parse(b)
    for v in VERSIONS:
        assert (x & y).contains(v) == (x.contains(v) and y.contains(v))
        assert (x | y).contains(v) == (x.contains(v) or y.contains(v))
        assert (~x).contains(v) == (not x.contains(v))
    assert (x & ~x).is_empty
    assert (x | ~x).is_full


def test_text_forms() -> None:
    assert str(VersionSet.parse(">=1,<2")) == ">=1,<2"
    assert str(VersionSet.parse("!=1.5")) == "!=1.5"
    assert str(VersionSet.parse("==1.0")) == "==1.0"
    assert str(VersionSet.parse(">=2").complement()) == "<2"
    assert str(VersionSet.parse("<1,>=2")) == "<empty>"
    assert str(VersionSet.full()) == "*"


def test_local_version_matches_plain_pin() -> None:
    assert VersionSet.parse("==1.0").contains(Version("1.0+cpu"))
    assert not VersionSet.parse("==1.0+gpu").contains(Version("1.0+cpu"))


def test_term_relations() -> None:
    a_ge1 = Term("a", VersionSet.parse(">=1"))
    a_ge2 = Term("a", VersionSet.parse(">=2"))
    assert a_ge1.relation(a_ge2) is Relation.SATISFIED
    assert a_ge2.relation(a_ge1) is Relation.INCONCLUSIVE
    assert a_ge2.negate().relation(Term("a", VersionSet.parse("<2"))) is Relation.SATISFIED
    assert a_ge2.relation(Term("a", VersionSet.parse("<2"))) is Relation.CONTRADICTED
    # a negative term is never contradicted by another negative one
    assert a_ge2.negate().relation(a_ge1.negate()) is Relation.SATISFIED
    assert str(a_ge2.negate()) == "not a>=2"


@given(specs, specs)
def test_slices_agree_with_membership(a: str, b: str) -> None:
    """Bisection over sorted versions finds exactly the members, for unions and gaps too."""
    ordered = sorted(VERSIONS)
    for vs in (VersionSet.parse(a), VersionSet.parse(a) | ~VersionSet.parse(b)):
        assert vs.filter_sorted(ordered) == [v for v in ordered if vs.contains(v)]


def test_interned_by_spelling_and_memoized() -> None:
    """Equal sets compare equal, but each spelling keeps its own text (reports never
    depend on what was computed before), and repeated operations give the same object."""
    one, one_zero = VersionSet.parse(">1"), VersionSet.parse(">1.0")
    assert one == one_zero
    assert hash(one) == hash(one_zero)
    assert (str(one), str(one_zero)) == (">1", ">1.0")
    assert VersionSet.parse(">1") is one
    both = one & VersionSet.parse("<3")
    assert both is one & VersionSet.parse("<3")
    assert ~~one is one
    assert VersionSet.singleton("1.0") == VersionSet.singleton(Version("1"))
    assert str(VersionSet.singleton("1.0")) == "==1.0"
    assert str(VersionSet.singleton(Version("1"))) == "==1"
