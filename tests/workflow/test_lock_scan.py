"""The frozen path's uv.lock scan gives tomllib's values for every key it keeps, or declines."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from ghostenv.lock.scan import artifact, scan, scan_simple
from tests.conftest import REPO, SHARED

LOCKS = sorted([*REPO.glob("fixtures/locks/*/uv.lock"),
                *(SHARED / "packse" / "uv-locks").glob("*.lock")])
KEPT = ("name", "version", "source", "dependencies", "wheels",
        "optional-dependencies", "dev-dependencies")


def _projection(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"version": doc["version"], "package": [
        {k: v for k, v in p.items() if k in KEPT} for p in doc.get("package", [])]}
    if "conflicts" in doc:
        out["conflicts"] = bool(doc["conflicts"])
    if "members" in doc.get("manifest", {}):
        out["manifest"] = {"members": doc["manifest"]["members"]}
    return out


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: p.parent.name if p.name == "uv.lock"
                         else p.name.removesuffix(".uv.lock"))
def test_scan_equals_tomllib(path: Path) -> None:
    text = path.read_text("utf-8")
    got = scan(text)
    assert got is not None, "uv's own output must be scanned"
    want = _projection(tomllib.loads(text))
    for package, expected in zip(got["package"], want["package"], strict=True):
        raw = package.pop("wheels", None)
        wheels = expected.pop("wheels", None)
        assert (raw is None) == (wheels is None)
        for line, table in zip(raw or [], wheels or [], strict=True):
            assert line.startswith("    {")
            assert artifact(line) == {k: v for k, v in table.items()
                                      if k in ("url", "hash") or "url" not in table}
    assert got == want


@pytest.mark.parametrize("edit", [
    ("[[package]]", "[[distribution]]"),
    ("dependencies = [\n    ", "dependencies = [ # comment\n    "),
    ('name = "', 'name =  "'),
    ("\n]\n", "\n  ]\n"),
    ('source = { registry = "', 'source = {registry = "'),
])
def test_off_shape_text_is_declined(edit: tuple[str, str]) -> None:
    text = (REPO / "fixtures/locks/web/uv.lock").read_text("utf-8")
    assert edit[0] in text
    assert scan(text.replace(edit[0], edit[1], 1)) is None


PYPROJECTS = sorted(p for p in [*REPO.glob("fixtures/**/pyproject.toml"),
                                *SHARED.glob("workloads/*/pyproject.toml")]
                    if ".venv" not in p.parts)


@pytest.mark.parametrize("path", PYPROJECTS, ids=lambda p: str(p.parent.name))
def test_scan_simple_equals_tomllib_or_declines(path: Path) -> None:
    text = path.read_text("utf-8")
    got = scan_simple(text)
    if got is not None:
        assert got == tomllib.loads(text)


SAMPLE = """\
# a comment
[project]
name = "demo"
version = "0.1.0"
dependencies = [
  "requests>=2; python_version >= '3.8'",
  "rich"  # no comma on the last element is fine
]
optional-dependencies = { cli = ["click"] }

[dependency-groups]
dev = ["pytest", { include-group = "lint" }]
lint = [
    "ruff",
]

[[tool.uv.index]]
url = "https://example.org/simple"
default = true
"""


DEV = 'dev = ["pytest", { include-group = "lint" }]'


@pytest.mark.parametrize(("old", "new"), [
    ("", ""),
    ('"rich"  # no comma on the last element is fine', '"rich"'),
    ('name = "demo"', "name = 'demo'"),
    ('version = "0.1.0"', 'version = "0.1.0"  # trailing'),
    ("[project]", "[project]\nname2 = 1.5"),
    ("lint = [", '"lint" = ['),
    ("default = true", "default = true\n[project]"),
    # spellings people write, read without tomllib (and its re/typing imports) ...
    (DEV, 'dev = ["pytest",{include-group="lint"}]'),
    (DEV, "dev = [ 'pytest' , {\tinclude-group = 'lint' } ]"),
    ('version = "0.1.0"', 'version="0.1.0"'),
    ('version = "0.1.0"', 'version   =\t"0.1.0"   # aligned'),
    ("dependencies = [", "dependencies = [  # runtime"),
    ('    "ruff",', '    "ruff", "mypy",  # two\n    # a comment line\n    "black"'),
    ('    "ruff",', "    'ruff' ,"),
    ("optional-dependencies = { cli = [\"click\"] }", "optional-dependencies = {}"),
    # ... and the shapes tomllib refuses stay refused
    ("optional-dependencies = { cli = [\"click\"] }",
     "optional-dependencies = { cli = [\"click\"] }\n[project.optional-dependencies]\nx = []"),
    ("[[tool.uv.index]]", "[tool]\nuv = { index = [] }\n[[tool.uv.index]]"),
    ("[[tool.uv.index]]", "[tool.uv]\nindex = []\n[[tool.uv.index]]"),
    ('name = "demo"', 'name = "de\x01mo"'),
    ('name = "demo"', 'name = "demo" "x"'),
    (DEV, 'dev = ["pytest", { include-group = "lint", }]'),
    (DEV, 'dev = ["pytest" { include-group = "lint" }]'),
    ("    \"ruff\",\n]", "    \"ruff\"\n    \"mypy\"\n]"),
    ("    \"ruff\",\n]", "    \"ruff\",\n  # end\n    ]"),
    ('version = "0.1.0"', "version = 'a'b'"),
])
def test_scan_simple_never_disagrees(old: str, new: str) -> None:
    assert not old or old in SAMPLE
    text = SAMPLE.replace(old, new, 1) if old else SAMPLE
    got = scan_simple(text)
    try:
        want = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        assert got is None
        return
    assert got is None or got == want
    if not any(off in new for off in ('"lint" = [', "1.5", "\n[project]", '"de', "# end")):
        assert got == want, "a common spelling fell back to tomllib"


def test_a_raw_wheel_line_off_shape_is_an_error_for_the_caller() -> None:
    good = '    { url = "https://x/a-1-py3-none-any.whl", hash = "sha256:ab", size = 1 },'
    assert artifact(good) == {"url": "https://x/a-1-py3-none-any.whl", "hash": "sha256:ab"}
    assert artifact(good, whole=True)["size"] == 1
    with pytest.raises(ValueError, match="not an inline table"):
        artifact(good.replace(", size", ",size"), whole=True)
