"""The cut algebra agrees with packaging's VersionRange on random PEP 440 specifiers.

Membership, emptiness, subset/disjoint and the canonical form (equality) of
every result are compared with packaging's answer for the same operation, on
versions built to hit the awkward corners: prereleases, post and dev releases,
local labels, epochs, the ``0.dev0`` floor and boundaries' least successors.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from packaging.ranges import VersionRange
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ghostenv.resolve import version_cuts as vc
from ghostenv.resolve.term import Relation, Term
from ghostenv.resolve.version_set import VersionSet

releases = st.lists(st.integers(0, 3), min_size=1, max_size=3)
pre = st.none() | st.tuples(st.sampled_from(["a", "b", "rc"]), st.integers(0, 2))
post = st.none() | st.integers(0, 2)
dev = st.none() | st.integers(0, 2)
local = st.none() | st.sampled_from(["cpu", "1", "abc.5"])


@st.composite
def versions(draw: st.DrawFn, with_local: bool = True) -> Version:
    text = ".".join(map(str, draw(releases)))
    if draw(st.integers(0, 9)) == 0:
        text = f"1!{text}"
    if (p := draw(pre)) is not None:
        text += f"{p[0]}{p[1]}"
    if (n := draw(post)) is not None:
        text += f".post{n}"
    if (d := draw(dev)) is not None:
        text += f".dev{d}"
    if with_local and (label := draw(local)) is not None:
        text += f"+{label}"
    return Version(text)


@st.composite
def specifier(draw: st.DrawFn) -> str:
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "==*", "!=*"]))
    if op.endswith("*"):
        release = ".".join(map(str, draw(releases)))
        return f"{op[:2]}{release}.*"
    version = draw(versions(with_local=op in ("==", "!=")))
    if op == "~=" and len(version.release) < 2:
        version = version.__replace__(release=(*version.release, 0))
    return f"{op}{version}"


specifiers = st.lists(specifier(), min_size=1, max_size=3).map(",".join)


def reference(text: str) -> VersionRange:
    return SpecifierSet(text, prereleases=True).to_range()


def agrees(ours: VersionSet, theirs: VersionRange, probes: list[Version]) -> None:
    assert ours.is_empty == theirs.is_empty
    assert ours._as_range() == theirs, (str(ours), theirs)
    assert VersionSet.from_range(theirs) == ours
    for v in probes:
        assert ours.contains(v) == theirs.contains(v), (str(ours), theirs, v)


@settings(max_examples=300, deadline=None)
@given(specifiers, specifiers, st.lists(versions(), min_size=1, max_size=12))
def test_algebra_matches_packaging(a: str, b: str, probes: list[Version]) -> None:
    x, y = VersionSet.parse(a), VersionSet.parse(b)
    rx, ry = reference(a), reference(b)
    agrees(x, rx, probes)
    agrees(x & y, rx & ry, probes)
    agrees(x | y, rx | ry, probes)
    agrees(x.difference(y), rx - ry, probes)
    agrees(~x, ~rx, probes)
    assert x.is_subset(y) == rx.is_subset(ry)
    assert x.is_disjoint(y) == rx.is_disjoint(ry)
    assert x & y == y & x
    assert hash(x & y) == hash(y & x)


@settings(max_examples=200, deadline=None)
@given(versions(), specifiers, st.lists(versions(), min_size=1, max_size=8))
def test_singletons_match_packaging(v: Version, other: str, probes: list[Version]) -> None:
    one = VersionSet.singleton(v)
    theirs = VersionRange.singleton(v, prereleases=True)
    agrees(one, theirs, [v, *probes])
    assert one.contains(v)
    # the singleton shortcuts (membership instead of a merge) give the same sets
    y, ry = VersionSet.parse(other), reference(other)
    agrees(one & y, theirs & ry, probes)
    agrees(one | y, theirs | ry, probes)
    agrees(y.difference(one), ry - theirs, probes)
    assert one.is_subset(y) == theirs.is_subset(ry)
    assert one.is_disjoint(y) == theirs.is_disjoint(ry)


@settings(max_examples=100, deadline=None)
@given(specifiers, st.lists(versions(), min_size=0, max_size=15))
def test_slices_are_the_members(a: str, probes: list[Version]) -> None:
    ordered = sorted(set(probes))
    for vs in (VersionSet.parse(a), ~VersionSet.parse(a)):
        assert vs.filter_sorted(ordered) == [v for v in ordered if vs.contains(v)]


def test_arbitrary_equality_falls_back_to_packaging() -> None:
    """``===`` keeps packaging's literal matching and mixes with plain sets."""
    literal = VersionSet.parse("===1.0")
    assert literal.contains(Version("1.0"))
    assert not literal.contains(Version("1.0.0"))
    both = literal & VersionSet.parse(">=0.5")
    assert both.contains(Version("1.0"))
    assert (literal & VersionSet.parse("<0.5")).is_empty
    assert (literal | VersionSet.parse(">=2")).contains(Version("3"))
    assert VersionSet.parse(">=2").difference(literal).contains(Version("2"))


def test_floor_and_least_successors() -> None:
    """Nothing sorts below 0.dev0, and a boundary's least successor folds onto it."""
    for text in (
        "0.dev0",
        "0.0.dev0",
        "1.0a2.dev0",
        "1.0.dev3",
        "1.0.post0.dev0",
        "1.0.post2.dev0",
    ):
        one = VersionSet.singleton(text)
        theirs = VersionRange.singleton(text, prereleases=True)
        agrees(one, theirs, [Version(text), Version("0.dev0+x"), Version("1.0a1.post3")])
    assert VersionSet.singleton("0.dev0").complement().contains(Version("0.dev0+local"))
    assert VersionSet.parse(">1.0a1") == VersionSet.parse(">=1.0a2.dev0")


def packaging_text(rng: VersionRange) -> str:
    """How a set printed when it was packaging's range (session 2's ``__str__``):
    the parsed forms must print the same, so reports read the same."""
    if rng.is_empty:
        return "<empty>"
    if (~rng).is_empty:
        return "*"
    parts = []
    for lower, upper in rng._bounds:
        lo = (
            None if lower.version is None else str(getattr(lower.version, "version", lower.version))
        )
        hi = (
            None if upper.version is None else str(getattr(upper.version, "version", upper.version))
        )
        if lo is not None and lo == hi:
            parts.append(f"=={lo}")
            continue
        pieces = []
        if lo is not None:
            if lower.inclusive and lo.endswith(".dev0"):
                lo = lo[: -len(".dev0")]
            pieces.append((">=" if lower.inclusive else ">") + lo)
        if hi is not None:
            if not upper.inclusive and hi.endswith(".dev0"):
                hi = hi[: -len(".dev0")]
            pieces.append(("<=" if upper.inclusive else "<") + hi)
        parts.append(",".join(pieces) or "*")
    strict = len(parts) == 2 and parts[0][:2] != "<=" and parts[1][:2] != ">="
    if len(parts) == 2 and strict and parts[0][0] == "<" and parts[1][0] == ">":
        left, right = parts[0][1:], parts[1][1:]
        if left == right and "," not in parts[0] + parts[1]:
            return f"!={left}"
    return " | ".join(parts)


@settings(max_examples=300, deadline=None)
@given(specifiers, specifiers)
@example(a="!=1!0,~=1.2.0", b="!=1.3.0.*")  # a union ending two intervals at 1.3.dev0
@example(a="!=1!0", b="<1!0")  # what is left is [1!0.dev0, 1!0): the .dev0 is printed
def test_text_is_packagings(a: str, b: str) -> None:
    x, y = VersionSet.parse(a), VersionSet.parse(b)
    rx, ry = reference(a), reference(b)
    pairs = ((x, rx), (~x, ~rx), (x & y, rx & ry), (x | y, rx | ry), (x.difference(y), rx - ry))
    for ours, theirs in pairs:
        assert str(ours) == packaging_text(theirs)


@settings(max_examples=200, deadline=None)
@given(st.none() | versions(), st.none() | versions())
def test_between_is_the_parsed_range(below: Version | None, above: Version | None) -> None:
    text = ",".join(f"{op}{v.public}" for op, v in ((">", below), ("<", above)) if v is not None)
    parsed = VersionSet.parse(text)
    built = VersionSet.between(below, above)
    assert built == parsed
    assert str(built) == str(parsed) == packaging_text(reference(text))


spelled = st.sampled_from(["1", "1.0", "1.0.0", "2", "2.0", "1.5", "1.0a1", "1.0.post1"])
simple = st.tuples(st.sampled_from([">=", "<", ">", "<=", "==", "!="]), spelled).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(simple, min_size=1, max_size=2).map(",".join),
    st.lists(simple, min_size=1, max_size=2).map(",".join),
)
def test_one_interval_shortcuts_are_the_merge(a: str, b: str) -> None:
    """The shortcuts for one-interval sets give the merge's cuts *and* spellings
    (where both sides cut at the same place, the first operand's spelling wins)."""
    x, y = VersionSet.parse(a), VersionSet.parse(b)
    assert x._cuts is not None
    assert y._cuts is not None
    for mode, shortcut in ((0, vc.intersection), (1, vc.union), (2, vc.difference)):
        fast = shortcut(x._cuts, x._points, y._cuts, y._points)
        slow = vc._merge(x._cuts, x._points, y._cuts, y._points, mode)
        assert fast[0] == slow[0]
        assert list(map(str, fast[1])) == list(map(str, slow[1])), (a, b, mode)


version_sets = st.one_of(
    st.sampled_from(["", "<0.dev0", "===1.0", "===1.0,>=0.5"]).map(VersionSet.parse),
    specifiers.map(VersionSet.parse),
    versions().map(VersionSet.singleton),  # decisions
)


@settings(max_examples=400, deadline=None)
@given(version_sets, st.booleans(), version_sets, st.booleans())
def test_relation_by_definition(
    a: VersionSet, positive: bool, b: VersionSet, known_positive: bool
) -> None:
    """The memoized relation (with its shortcuts for full sets and decisions) is
    solver.md's: satisfied when what is known implies the term, contradicted when
    both cannot hold together, else inconclusive."""
    term = Term("p", a, positive)
    known = Term("p", b, known_positive)
    expected = (
        Relation.SATISFIED
        if term.satisfied_by(known)
        else Relation.CONTRADICTED
        if known.intersect(term).is_empty
        else Relation.INCONCLUSIVE
    )
    assert term.relation(known) is expected
