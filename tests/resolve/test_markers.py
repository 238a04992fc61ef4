"""The marker algebra (resolve/markers.py) and uv's printed form (resolve/marker_text.py).

Property tests check the diagram against packaging's own evaluator on random
environments; the table checks the text against strings uv 0.13.9 wrote for
the same markers (collected by locking a project whose dependencies carry them).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.markers import Marker

from ghostenv.resolve.markers import MarkerTree, parse_marker

PYTHONS = ["3.8.0", "3.9.1", "3.10.0", "3.10.4", "3.11.2", "3.12.0", "3.13.1", "3.14.0"]
STRINGS = {
    "sys_platform": ["linux", "darwin", "win32", "emscripten"],
    "os_name": ["posix", "nt"],
    "platform_machine": ["x86_64", "arm64", "aarch64"],
    "implementation_name": ["cpython", "pypy"],
    "platform_python_implementation": ["CPython", "PyPy"],
}
# The known-impossible pairs uv assumes are avoided in the random environments.
_IMPOSSIBLE = {("nt", "linux"), ("nt", "darwin"), ("posix", "win32")}

atoms = st.one_of(
    st.builds(
        lambda op, v: f"python_version {op} '{v}'",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.sampled_from(["3.9", "3.10", "3.11", "3.12", "3.13"]),
    ),
    st.builds(
        lambda op, v: f"python_full_version {op} '{v}'",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.sampled_from(["3.9", "3.10.1", "3.11", "3.12.0", "3.13.2"]),
    ),
    st.builds(lambda v: f"python_full_version == '{v}.*'", st.sampled_from(["3.10", "3.12"])),
    st.sampled_from(sorted(STRINGS)).flatmap(
        lambda key: st.builds(
            lambda op, v: f"{key} {op} '{v}'",
            st.sampled_from(["==", "!="]),
            st.sampled_from(STRINGS[key]),
        )
    ),
    st.builds(
        lambda op, v: f"extra {op} '{v}'",
        st.sampled_from(["==", "!="]),
        st.sampled_from(["cli", "docs"]),
    ),
    st.sampled_from(["'linux' in sys_platform", "sys_platform in 'linux darwin'"]),
)
markers = st.recursive(
    atoms,
    lambda inner: st.builds(
        lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from(["and", "or"]), inner
    ),
    max_leaves=6,
)


@st.composite
def environments(draw: st.DrawFn) -> dict[str, str]:
    full = draw(st.sampled_from(PYTHONS))
    env = {key: draw(st.sampled_from(values)) for key, values in STRINGS.items()}
    while (env["os_name"], env["sys_platform"]) in _IMPOSSIBLE:
        env["os_name"] = "posix" if env["os_name"] == "nt" else "nt"
    env |= {
        "python_full_version": full,
        "python_version": ".".join(full.split(".")[:2]),
        "implementation_version": full,
        "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}.get(
            env["sys_platform"], "Emscripten"
        ),
        "platform_release": "",
        "platform_version": "",
    }
    return env


def _packaging(text: str, env: dict[str, str], extra: str) -> bool:
    return Marker(text).evaluate({**env, "extra": extra})


@settings(max_examples=150, deadline=None)
@given(markers, environments(), st.sampled_from(["", "cli", "docs"]))
def test_diagram_evaluates_like_packaging(text: str, env: dict[str, str], extra: str) -> None:
    tree = parse_marker(text)
    extras = [extra] if extra else []
    assert tree.evaluate(env, extras) == _packaging(text, env, extra)


@settings(max_examples=150, deadline=None)
@given(markers, environments(), st.sampled_from(["", "cli"]))
def test_printed_form_means_the_same(text: str, env: dict[str, str], extra: str) -> None:
    tree = parse_marker(text)
    printed = str(tree)
    extras = [extra] if extra else []
    if tree.is_true:
        assert printed == ""
        return
    if tree.is_false:
        return
    assert parse_marker(printed) == tree, printed
    assert _packaging(printed, env, extra) == tree.evaluate(env, extras)


@settings(max_examples=100, deadline=None)
@given(markers, markers, environments())
def test_and_or_not_disjoint(a: str, b: str, env: dict[str, str]) -> None:
    x, y = parse_marker(a), parse_marker(b)
    ex, ey = x.evaluate(env), y.evaluate(env)
    assert (x & y).evaluate(env) == (ex and ey)
    assert (x | y).evaluate(env) == (ex or ey)
    assert (~x).evaluate(env) == (not ex)
    if x.is_disjoint(y):
        assert not (ex and ey)


@settings(max_examples=100, deadline=None)
@given(markers, environments())
def test_simplify_against_requires_python_agrees_inside_the_range(
    text: str, env: dict[str, str]
) -> None:
    from packaging.version import Version

    floor = Version("3.10")
    simplified = parse_marker(text).simplify_python(((floor, True), None))
    if Version(env["python_full_version"]) >= floor:
        assert simplified.evaluate(env) == parse_marker(text).evaluate(env)


# What uv 0.13.9 wrote in requires-dist for these markers (left), verbatim (right).
UV_TEXT = [
    (
        "(python_version >= '3.11' and sys_platform != 'linux') or python_version >= '3.12'",
        "python_full_version >= '3.12' or (python_full_version == '3.11.*' and sys_platform != 'linux')",  # noqa: E501
    ),
    (
        "(python_version >= '3.11' and platform_system != 'Windows') or python_version >= '3.12'",
        "python_full_version >= '3.12' or (python_full_version == '3.11.*' and sys_platform != 'win32')",  # noqa: E501
    ),
    (
        "(python_version >= '3.11' and platform_system != 'Foo') or python_version >= '3.12'",
        "python_full_version >= '3.12' or (python_full_version == '3.11.*' and platform_system != 'Foo')",  # noqa: E501
    ),
    (
        "(sys_platform == 'linux' and platform_machine != 'x86_64') or sys_platform == 'darwin'",
        "(platform_machine != 'x86_64' and sys_platform == 'linux') or sys_platform == 'darwin'",
    ),
    (
        "(os_name == 'nt' and sys_platform != 'linux') or python_version < '3.9'",
        "python_full_version < '3.9' or os_name == 'nt'",
    ),
    (
        "python_version == '3.10' or python_version == '3.12'",
        "python_full_version == '3.10.*' or python_full_version == '3.12.*'",
    ),
    ("python_version != '3.10'", "python_full_version != '3.10.*'"),
    (
        "python_version > '3.10' and python_version <= '3.12'",
        "python_full_version >= '3.11' and python_full_version < '3.13'",
    ),
    ("extra == 'foo' or sys_platform == 'win32'", "sys_platform == 'win32' or extra == 'foo'"),
    (
        "(platform_machine != 'x86_64' and python_version >= '3.11') or python_version >= '3.12'",
        "python_full_version >= '3.12' or (python_full_version == '3.11.*' and platform_machine != 'x86_64')",  # noqa: E501
    ),
    (
        "python_version >= '3.11' and implementation_name == 'pypy' and os_name == 'posix'",
        "python_full_version >= '3.11' and implementation_name == 'pypy' and os_name == 'posix'",
    ),
    (
        "python_version >= '3.11' and sys_platform == 'linux' or platform_machine == 'arm64'",
        "(python_full_version >= '3.11' and sys_platform == 'linux') or platform_machine == 'arm64'",  # noqa: E501
    ),
    (
        "python_version >= '3.11' and sys_platform == 'linux' or implementation_name == 'pypy'",
        "(python_full_version >= '3.11' and sys_platform == 'linux') or implementation_name == 'pypy'",  # noqa: E501
    ),
    (
        "sys_platform == 'linux' or platform_machine == 'arm64'",
        "platform_machine == 'arm64' or sys_platform == 'linux'",
    ),
    (
        "python_version >= '3.11' and python_version < '3.12' or platform_machine == 'arm64'",
        "python_full_version == '3.11.*' or platform_machine == 'arm64'",
    ),
    ("os_name == 'nt' and sys_platform != 'linux'", "os_name == 'nt'"),
    ("os_name == 'nt' and sys_platform != 'win32'", "os_name == 'nt' and sys_platform != 'win32'"),
    (
        "sys_platform != 'linux' and sys_platform != 'darwin'",
        "sys_platform != 'darwin' and sys_platform != 'linux'",
    ),
]


@pytest.mark.parametrize(("text", "expected"), UV_TEXT)
def test_printed_like_uv(text: str, expected: str) -> None:
    assert str(parse_marker(text)) == expected


def test_true_false_and_requires_python() -> None:
    from packaging.version import Version

    assert parse_marker(None).is_true
    assert parse_marker("sys_platform == 'linux' and sys_platform == 'win32'").is_false
    rp = ((Version("3.10"), True), None)
    assert parse_marker("python_version >= '3.10'").simplify_python(rp).is_true
    assert (
        str(parse_marker("python_version == '3.10'").simplify_python(rp))
        == "python_full_version < '3.11'"
    )
    assert parse_marker("python_version < '3.10'").simplify_python(rp).is_false
    tree = parse_marker("python_version >= '3.11' and sys_platform == 'linux'")
    assert isinstance(tree, MarkerTree)
    assert tree.python_bounds()[0] == (Version("3.11"), True)
