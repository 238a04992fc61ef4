"""pyproject.toml reading: real files in tmp_path, errors naming file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghostenv.errors import ProjectError
from ghostenv.project.read import read_project

REPO = Path(__file__).resolve().parents[2]
HEAD = '[project]\nname = "p"\nversion = "1"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_workload_web() -> None:
    project = read_project(REPO / "fixtures" / "locks" / "web")
    assert project.name == "workload-web"
    assert project.version == "0.1.0"
    assert str(project.requires_python) == ">=3.9"
    assert [r.name for r in project.dependencies] == ["requests", "rich", "httpx", "attrs", "click"]
    assert [g for g, _ in project.groups] == ["test"]
    assert project.virtual


def test_sources_project_groups_extras_and_sources() -> None:
    project = read_project(REPO / "fixtures" / "locks" / "sources" / "pyproject.toml")
    assert project.extras() == ("cli", "extra-two")
    assert [r.name for r in project.group("dev")] == ["iniconfig", "packaging"]
    assert [r.name for r in project.group("lint")] == ["iniconfig"]
    assert dict(project.sources)["liba"] == (("path", "packages/liba"), ("editable", True))


def test_build_system_and_dynamic_version(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[project]\nname = "My_Pkg"\ndynamic = ["version"]\n'
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n',
    )
    project = read_project(path)
    assert project.name == "my-pkg"
    assert project.version is None
    assert not project.virtual


def test_indexes_prefer_ghostenv_then_uv(tmp_path: Path) -> None:
    base = HEAD + ""
    uv = '[[tool.uv.index]]\nname = "mirror"\nurl = "http://127.0.0.1/simple"\ndefault = true\n'
    project = read_project(_write(tmp_path, base + uv))
    assert [(i.name, i.url, i.default) for i in project.indexes] == [
        ("mirror", "http://127.0.0.1/simple", True)
    ]
    gh = '[tool.ghostenv]\nindex-url = "http://own/simple"\n'
    project = read_project(_write(tmp_path, base + gh + uv))
    assert [i.url for i in project.indexes] == ["http://own/simple"]


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (
            HEAD + 'dependencies = ["requests >="]\n',
            "project.dependencies[0]",
            "invalid requirement",
        ),
        (
            HEAD + "dependencies = [\"six; python_version >< '3'\"]\n",
            "project.dependencies[0]",
            "invalid requirement",
        ),
        (
            HEAD + "[project.optional-dependencies]\ncli = [\"x; bogus == '1'\"]\n",
            "project.optional-dependencies.cli[0]",
            "invalid requirement",
        ),
        (
            HEAD + 'requires-python = ">=3.x"\n',
            "project.requires-python",
            "invalid specifier",
        ),
        ('[project]\nname = "p"\n', "project.version", "missing"),
        ("[tool.uv]\n", "project", "missing [project]"),
        (
            HEAD + '[dependency-groups]\na = [{include-group = "b"}]\n'
            'b = [{include-group = "a"}]\n',
            "dependency-groups.a",
            "cycle",
        ),
        (
            HEAD + '[dependency-groups]\na = [{include-group = "zz"}]\n',
            "dependency-groups.a[0]",
            "unknown group",
        ),
    ],
)
def test_errors_name_file_key_problem(tmp_path: Path, body: str, key: str, problem: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ProjectError) as info:
        read_project(path)
    message = info.value.message
    assert message.startswith(f"{path}: `{key}`: ")
    assert problem in message
    assert "\n" not in message


def test_malformed_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, '[project\nname = "p"\n')
    with pytest.raises(ProjectError, match="invalid TOML"):
        read_project(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="not found"):
        read_project(tmp_path)
