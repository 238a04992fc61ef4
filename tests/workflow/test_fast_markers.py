"""The stdlib marker evaluator of the frozen fast path gives packaging's answer, or none.

Every marker of every lock fixture (ghostenv's, packse's uv-written locks, the
workloads') must be understood and agree with ``packaging.markers``; generated
markers (any spacing, quotes, operand order, aliases, bad syntax) must either
agree or be refused with :class:`Unsupported` (the caller then takes the full
path). Never a different answer.
"""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import InvalidMarker, Marker, UndefinedComparison

from ghostenv.lock.fast_markers import Unsupported, canonical_name, evaluate
from tests.conftest import REPO, SHARED

ENVS = [
    {"implementation_name": "cpython", "implementation_version": "3.12.1", "os_name": "posix",
     "platform_machine": "x86_64", "platform_python_implementation": "CPython",
     "platform_release": "6.1.0", "platform_system": "Linux", "platform_version": "#1 SMP",
     "python_full_version": "3.12.1", "python_version": "3.12", "sys_platform": "linux",
     "extra": ""},
    {"implementation_name": "pypy", "implementation_version": "7.3.13", "os_name": "nt",
     "platform_machine": "AMD64", "platform_python_implementation": "PyPy",
     "platform_release": "10", "platform_system": "Windows", "platform_version": "10.0.19041",
     "python_full_version": "3.9.18", "python_version": "3.9", "sys_platform": "win32",
     "extra": ""},
    {"implementation_name": "cpython", "implementation_version": "3.10.0", "os_name": "posix",
     "platform_machine": "arm64", "platform_python_implementation": "CPython",
     "platform_release": "23.1.0", "platform_system": "Darwin", "platform_version": "Darwin",
     "python_full_version": "3.10.0", "python_version": "3.10", "sys_platform": "darwin",
     "extra": "Foo.Bar"},
]


def _lock_markers() -> set[str]:
    files = [*REPO.glob("fixtures/locks/*/uv.lock"), *(SHARED / "packse" / "uv-locks").glob(
        "*.lock")]
    found: set[str] = set()
    for path in files:
        doc = tomllib.loads(path.read_text("utf-8"))
        found.update(doc.get("resolution-markers", []))
        for package in doc.get("package", []):
            found.update(package.get("resolution-markers", []))
            deps = list(package.get("dependencies", []))
            for table in ("optional-dependencies", "dev-dependencies"):
                for group in package.get(table, {}).values():
                    deps += group
            found.update(d["marker"] for d in deps if "marker" in d)
    return found


def _packaging(marker: str, env: dict[str, str]) -> bool | None:
    """packaging's answer, or None when it refuses the marker or raises evaluating it."""
    try:
        return Marker(marker).evaluate(env)
    except (InvalidMarker, UndefinedComparison, KeyError):
        return None


def test_every_fixture_marker_is_understood_and_agrees() -> None:
    markers = _lock_markers()
    assert len(markers) > 40  # the fixtures are there (packse needs ../shared)
    for marker in sorted(markers):
        for env in ENVS:
            assert evaluate(marker, env) == Marker(marker).evaluate(env), (marker, env)


@pytest.mark.parametrize(("marker", "want"), [
    ("python_full_version >= '3.12'", True),
    ("python_full_version < '3.12.1'", False),
    ("python_version == '3.12.*'", True),
    ("python_version != '3.*'", False),
    ("python_version ~= '3.10'", True),
    ("python_full_version ~= '3.12.2'", False),
    ("'3.11' < python_version", True),
    ("'linux' in sys_platform and os_name == 'posix'", True),
    ("sys_platform == 'win32' or (platform_machine == 'x86_64' and os_name != 'nt')", True),
    ("extra == 'test'", False),
    ("extra != 'test'", True),
    ("platform_machine < 'z'", False),
    ("platform_machine >= 'x86_64'", True),
])
def test_known_answers(marker: str, want: bool) -> None:
    assert evaluate(marker, ENVS[0]) is want
    assert Marker(marker).evaluate(ENVS[0]) is want


@pytest.mark.parametrize("marker", [
    "os.name == 'posix'",  # alias
    "python_version >= '3.12rc1'",  # pre-release
    "python_version === '3.12'",
    "sys_platform ~= 'linux'",  # packaging raises
    "python_version >= '3.*'",  # not a specifier: packaging compares strings
    "'a' in extras",  # set-valued
    "python_version >= '3.12' and",
    "(python_version >= '3.12'",
    "python_version\t>= '3.12'",
    "sys_platform == linux",
])
def test_refused(marker: str) -> None:
    with pytest.raises(Unsupported):
        evaluate(marker, ENVS[0])


def test_platform_release_that_is_no_version_is_refused() -> None:
    env = {**ENVS[0], "platform_release": "6.1.0-18-amd64"}
    with pytest.raises(Unsupported):
        evaluate("platform_release >= '5'", env)
    assert evaluate("sys_platform == 'linux'", env) is True


VARIABLES = ["python_version", "python_full_version", "implementation_version",
             "platform_release", "sys_platform", "os_name", "platform_machine",
             "implementation_name", "platform_python_implementation", "platform_system",
             "platform_version", "extra", "os.name", "python_implementation", "extras"]
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "~=", "===", "in", "not in", "not  in", "=<"]
VERSIONS = st.lists(st.integers(0, 12), min_size=1, max_size=4).map(
    lambda parts: ".".join(map(str, parts)))
LITERALS = st.one_of(
    VERSIONS, VERSIONS.map(lambda v: v + ".*"), VERSIONS.map(lambda v: v + "rc1"),
    st.sampled_from(["linux", "win32", "darwin", "posix", "nt", "x86_64", "AMD64", "cpython",
                     "CPython", "PyPy", "Linux", "test", "Foo_bar", "foo-bar", "", "3", "1.0+x",
                     "v3.12", " 3.12", "03.012"]),
)


@st.composite
def _atom(draw: st.DrawFn) -> str:
    var = draw(st.sampled_from(VARIABLES))
    op = draw(st.sampled_from(OPERATORS))
    quote = draw(st.sampled_from(["'", '"']))
    literal = f"{quote}{draw(LITERALS)}{quote}"
    space = draw(st.sampled_from([" ", "", "  "]))
    left, right = (var, literal) if draw(st.booleans()) else (literal, var)
    return f"{left}{space}{op}{space}{right}"


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from([" and ", " or ", "and", " or("]), children).map(
            lambda t: f"{t[0]}{t[1]}{t[2]}"),
        children.map(lambda m: f"({m})"),
    )


MARKERS = st.recursive(_atom(), _combine, max_leaves=6)
ENV_VALUES = st.fixed_dictionaries({
    "python_full_version": VERSIONS, "python_version": VERSIONS,
    "implementation_version": VERSIONS,
    "platform_release": st.one_of(VERSIONS, st.just("6.1.0-18-amd64")),
    "sys_platform": st.sampled_from(["linux", "win32", "darwin"]),
    "extra": st.sampled_from(["", "test", "Foo.Bar"]),
})


@settings(max_examples=600, deadline=None)
@given(MARKERS, ENV_VALUES, st.integers(0, len(ENVS) - 1))
def test_generated_markers_agree_or_are_refused(marker: str, values: dict[str, str],
                                                base: int) -> None:
    env = {**ENVS[base], **values}
    want = _packaging(marker, env)
    try:
        got = evaluate(marker, env)
    except Unsupported:
        return  # the full path decides
    assert want is not None, f"packaging refuses {marker!r} but the fast path answered {got}"
    assert got is want, (marker, env)


@given(st.text(alphabet="aA_-.Zz9", max_size=12))
def test_canonical_name_is_packagings(name: str) -> None:
    from packaging.utils import canonicalize_name

    assert canonical_name(name) == canonicalize_name(name)
