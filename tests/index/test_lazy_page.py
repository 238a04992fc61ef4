"""Lazy JSON pages: rows for every file at once, DistFile objects only when asked for,
and the same files, in the same order, as an eager parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghostenv.errors import NetworkError
from ghostenv.index.html import parse_html
from ghostenv.index.json import _file, parse_json
from ghostenv.index.models import DistFile, ProjectPage

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"
URL = "https://i/simple/pkg/"


def _doc(files: list[dict[str, object]]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.1"}, "name": "Pkg", "versions": ["1.0", "2.0"],
                       "files": files}).encode()


FILES: list[dict[str, object]] = [
    {"filename": "pkg-1.0.tar.gz", "url": "pkg-1.0.tar.gz", "hashes": {"sha256": "AB" * 32},
     "requires-python": ">=3.8", "size": 10, "upload-time": "2020-01-01T00:00:00Z"},
    {"filename": "pkg-1.0-py3-none-any.whl", "url": "https://f/pkg-1.0-py3-none-any.whl",
     "hashes": {"sha256": "cd" * 32}, "yanked": "broken", "core-metadata": {"sha256": "EF"}},
    {"filename": "pkg-1.0.tar.gz", "url": "pkg-1.0.tar.gz", "hashes": {}},  # duplicate URL
    {"filename": "pkg-2.0-py3-none-any.whl", "url": "../../f/pkg-2.0-py3-none-any.whl",
     "hashes": {"sha256": "01" * 32}, "yanked": False, "size": "12"},
]


def test_lazy_page_builds_only_what_is_asked_and_matches_an_eager_parse() -> None:
    page = parse_json(_doc(FILES), URL)
    assert page.file_rows() == [("pkg-1.0.tar.gz", ">=3.8", False),
                                ("pkg-1.0-py3-none-any.whl", None, "broken"),
                                ("pkg-2.0-py3-none-any.whl", None, False)]
    assert page._built == {}  # nothing made yet
    wheel = page.file_at(2)
    assert wheel.url == "https://i/f/pkg-2.0-py3-none-any.whl"
    assert wheel.size is None
    assert set(page._built) == {2}
    assert page.file_at(2) is wheel  # made once
    eager = [_file(e, u) for e, u in (
        (FILES[0], URL + "pkg-1.0.tar.gz"), (FILES[1], str(FILES[1]["url"])),
        (FILES[3], "https://i/f/pkg-2.0-py3-none-any.whl"))]
    assert list(page.files) == eager
    assert page.files[0].hashes == {"sha256": "ab" * 32}
    assert page.files[1].core_metadata == {"sha256": "ef"}
    assert page.files[2] is wheel
    assert page.name == "pkg"
    assert page.versions == ("1.0", "2.0")


def test_found_as_keeps_the_page_lazy_and_renames_it() -> None:
    page = parse_json(_doc(FILES), URL)
    page.file_at(0)
    found = page.found_as("pkg", "https://i/simple/")
    assert found.index_url == "https://i/simple/"
    assert found._files is None
    assert found._built.keys() == {0}  # what was made is shared, not made again
    assert found.files == page.files
    assert found == ProjectPage(name="pkg", files=page.files, url=URL, api_version="1.1",
                                versions=("1.0", "2.0"), index_url="https://i/simple/")


def test_an_eager_page_answers_rows_and_positions_too() -> None:
    files = (DistFile(filename="a-1.0.tar.gz", url="u1", requires_python=">=3"),
             DistFile(filename="a-2.0.tar.gz", url="u2", yanked=True))
    page = ProjectPage(name="a", files=files)
    assert page.file_rows() == [("a-1.0.tar.gz", ">=3", False), ("a-2.0.tar.gz", None, True)]
    assert page.file_at(1) is files[1]
    html = parse_html((PAGES / "idna.html").read_text(), "https://pypi.org/simple/idna/", "idna")
    assert [r[0] for r in html.file_rows()] == [f.filename for f in html.files]


@pytest.mark.parametrize("bad", [
    {"filename": "x-1.0.tar.gz", "url": "x", "hashes": ["sha256"]},
    {"filename": 7, "url": "x"},
    {"url": "x"},
])
def test_a_malformed_entry_fails_at_parse_time(bad: dict[str, object]) -> None:
    with pytest.raises(NetworkError, match="malformed"):
        parse_json(_doc([bad]), URL)


def test_resolver_groups_positions_and_files_follow_them() -> None:
    from ghostenv.resolve.index_pages import candidates_of

    page = parse_json(_doc(FILES), URL)
    candidates, positions = candidates_of("pkg", page)
    assert positions == {"1.0": [0, 1], "2.0": [2]}
    assert [str(c.version) for c in candidates] == ["1.0", "2.0"]
    assert set(page._built) == set()  # versions known without a single file object
    assert [page.file_at(i).filename for i in positions["1.0"]] == [
        "pkg-1.0.tar.gz", "pkg-1.0-py3-none-any.whl"]
