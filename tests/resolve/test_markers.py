"""The marker algebra (resolve/markers.py) and uv's printed form (resolve/universal_marker_text.py).

Property tests check the diagram against packaging's own evaluator on random
environments; the table checks the text against strings uv 0.13.9 wrote for
the same markers (collected by locking a project whose dependencies carry them).
"""

from __future__ import annotations

from pathlib import Path

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


UV_TEXT += [
    ("python_version < '4'", "python_full_version < '4'"),
    ("python_version >= '3'", "python_full_version >= '3'"),
    ("python_version > '3'", "python_full_version >= '3.1'"),
    ("python_version <= '3.7.8'", "python_full_version < '3.8'"),
    ("python_version >= '3.10.2'", "python_full_version >= '3.11'"),
    ("python_version == '3'", "python_full_version == '3.0.*'"),
    ("python_full_version >= '3.10.0'", "python_full_version >= '3.10'"),
    ("python_version >= '3.10' and python_version < '3.11'", "python_full_version == '3.10.*'"),
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


def _uv() -> str | None:
    import shutil
    import sys
    from pathlib import Path

    found = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    return found if Path(found).exists() else None


@pytest.mark.skipif(_uv() is None, reason="uv is not installed (test-only peer)")
def test_printed_like_uv_on_random_markers(tmp_path: Path) -> None:
    """Random markers through a real `uv lock` (offline, local wheels): same text as uv."""
    import json
    import random
    import subprocess
    import tomllib
    import zipfile

    rng = random.Random(20261121)
    pool = [
        "python_version < '3.11'",
        "python_version >= '3.12'",
        "python_version == '3.10'",
        "python_full_version >= '3.11.2'",
        "sys_platform == 'linux'",
        "sys_platform != 'win32'",
        "sys_platform == 'darwin'",
        "platform_machine == 'arm64'",
        "platform_machine != 'x86_64'",
        "implementation_name == 'pypy'",
        "platform_python_implementation == 'CPython'",
        "os_name == 'nt'",
        "platform_system == 'Windows'",
    ]

    def random_marker(depth: int = 0) -> str:
        if depth >= 1 or rng.random() < 0.2:
            return rng.choice(pool)
        op = rng.choice(["and", "or"])
        return f"({random_marker(depth + 1)}) {op} ({random_marker(depth + 1)})"

    texts = [random_marker() for _ in range(40)]
    links = tmp_path / "wheels"
    links.mkdir()
    for i in range(len(texts)):
        with zipfile.ZipFile(links / f"dep{i}-1.0-py3-none-any.whl", "w") as whl:
            info = f"dep{i}-1.0.dist-info"
            whl.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: dep{i}\nVersion: 1.0\n")
            whl.writestr(
                f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            )
            whl.writestr(f"{info}/RECORD", "")
    project = tmp_path / "p"
    project.mkdir()
    deps = ",\n".join(json.dumps(f"dep{i} ; {text}") for i, text in enumerate(texts))
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        f"dependencies = [\n{deps}\n]\n"
    )
    subprocess.run(
        [str(_uv()), "lock", "--offline", "--no-index", "--find-links", str(links)],
        cwd=project,
        check=True,
        capture_output=True,
    )
    lock = tomllib.loads((project / "uv.lock").read_text())
    root = next(p for p in lock["package"] if p["name"] == "p")
    written = {r["name"]: r.get("marker") for r in root["metadata"]["requires-dist"]}
    mismatches = [
        (text, written.get(f"dep{i}"), str(parse_marker(text)) or None)
        for i, text in enumerate(texts)
        if f"dep{i}" in written and written[f"dep{i}"] != (str(parse_marker(text)) or None)
    ]
    for m in mismatches:
        print("IN  ", m[0])
        print("UV  ", m[1])
        print("OURS", m[2])
    assert not mismatches, len(mismatches)
