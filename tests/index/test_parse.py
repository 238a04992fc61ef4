"""Parsers on real saved pages (PyPI's botocore, packse's static index) and edge cases."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ghostenv.errors import NetworkError
from ghostenv.index.html import parse_html
from ghostenv.index.json import parse_json
from ghostenv.index.models import normalize_name

REPO = Path(__file__).resolve().parents[2]
PAGES = REPO / "fixtures" / "pages"
PACKSE = Path("/work/shared/packse/index/simple-html")


def test_botocore_page_is_parsed_fast() -> None:
    text = (PAGES / "botocore.html").read_text()
    start = time.perf_counter()
    page = parse_html(text, "https://pypi.org/simple/botocore/", "botocore")
    elapsed = time.perf_counter() - start
    assert len(page.files) == text.count("<a ")
    assert len(page.files) > 4000
    assert all(f.sha256 and len(f.sha256) == 64 for f in page.files)
    assert all("#" not in f.url for f in page.files)
    assert elapsed < 0.5, f"botocore page took {elapsed:.3f} s"


def test_multiline_anchor_relative_href_and_repository_version() -> None:
    if not PACKSE.is_dir():
        pytest.skip("packse static index not present")
    path = PACKSE / "all-extras-required-a" / "index.html"
    page = parse_html(path.read_text(), "http://h/simple-html/all-extras-required-a/",
                      "all-extras-required-a")
    assert page.api_version == "1.1"
    assert [f.filename for f in page.files] == [
        "all_extras_required_a-1.0.0-py3-none-any.whl", "all_extras_required_a-1.0.0.tar.gz"]
    assert page.files[0].url == "http://h/files/all_extras_required_a-1.0.0-py3-none-any.whl"
    assert page.files[0].requires_python == ">=3.12"


def test_every_packse_page_parses() -> None:
    if not PACKSE.is_dir():
        pytest.skip("packse static index not present")
    total = 0
    for index in PACKSE.glob("*/index.html"):
        text = index.read_text()
        page = parse_html(text, f"http://h/simple-html/{index.parent.name}/")
        # some packse pages repeat anchors: each distinct href is one file
        hrefs = set(re.findall(r'href="([^"#]+)', text))
        assert {f.url.rsplit("/", 1)[-1] for f in page.files} == {
            h.rsplit("/", 1)[-1] for h in hrefs}, index
        assert len(page.files) == len(hrefs), index
        total += len(page.files)
    assert total > 100


def test_raw_angle_brackets_yanked_metadata_and_duplicates() -> None:
    text = """<html><head><meta name="pypi:repository-version" content="1.0"></head><body>
    <a href="/f/pkg-1.0-py3-none-any.whl#sha256=AB" data-requires-python=">=3.8,<4"
       data-yanked="broken &amp; bad" data-core-metadata="sha256=CD">pkg-1.0-py3-none-any.whl</a>
    <a href='/f/pkg-1.0-py3-none-any.whl#sha256=AB'>pkg-1.0-py3-none-any.whl</a>
    <a href="pkg-0.9.tar.gz" data-yanked data-dist-info-metadata="true">pkg-0.9.tar.gz</a>
    <a href="pkg-0.8.tar.gz" data-requires-python="&gt;=2.7">pkg-0.8.tar.gz</a>
    </body></html>"""
    page = parse_html(text, "https://i.example/simple/pkg/", "Pkg")
    assert page.name == "pkg"
    assert page.api_version == "1.0"
    assert len(page.files) == 3
    first, second, third = page.files
    assert first.url == "https://i.example/f/pkg-1.0-py3-none-any.whl"
    assert first.hashes == {"sha256": "ab"}
    assert first.requires_python == ">=3.8,<4"
    assert first.yanked == "broken & bad"
    assert first.core_metadata == {"sha256": "cd"}
    assert second.url == "https://i.example/simple/pkg/pkg-0.9.tar.gz"
    assert second.yanked is True
    assert second.core_metadata is True
    assert third.requires_python == ">=2.7"
    assert third.yanked is False


def test_json_page_pep700() -> None:
    doc = {"meta": {"api-version": "1.1"}, "name": "Demo", "versions": ["1.0", "2.0"],
           "files": [{"filename": "demo-2.0-py3-none-any.whl", "url": "../../files/demo.whl",
                      "hashes": {"sha256": "FF"}, "requires-python": ">=3.9", "size": 10,
                      "upload-time": "2024-01-01T00:00:00Z", "yanked": "why",
                      "core-metadata": {"sha256": "EE"}},
                     {"filename": "demo-1.0.tar.gz", "url": "https://x/demo-1.0.tar.gz",
                      "hashes": {}, "yanked": False, "dist-info-metadata": True}]}
    page = parse_json(json.dumps(doc).encode(), "https://i/simple/demo/")
    assert page.name == "demo"
    assert page.api_version == "1.1"
    assert page.versions == ("1.0", "2.0")
    a, b = page.files
    assert a.url == "https://i/files/demo.whl"
    assert (a.size, a.upload_time, a.yanked, a.hashes) == (10, "2024-01-01T00:00:00Z", "why",
                                                           {"sha256": "ff"})
    assert a.core_metadata == {"sha256": "ee"}
    assert b.core_metadata is True
    assert b.yanked is False


def test_bad_json_names_the_url() -> None:
    with pytest.raises(NetworkError, match="https://i/simple/x/"):
        parse_json(b"<html>", "https://i/simple/x/")


@given(st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", fullmatch=True))
def test_normalize_is_idempotent_and_canonical(name: str) -> None:
    from packaging.utils import canonicalize_name

    assert normalize_name(name) == canonicalize_name(name)
    assert normalize_name(normalize_name(name)) == normalize_name(name)


def test_pick_parses_only_the_chosen_files_same_as_full() -> None:
    """``pick`` sees every (filename, yanked) and the files it keeps equal the full parse's."""
    text = (PAGES / "botocore.html").read_text()
    url = "https://pypi.org/simple/botocore/"
    full = parse_html(text, url, "botocore")
    seen: list[list[tuple[str, bool]]] = []

    def newest_two(named: list[tuple[str, bool]]) -> set[str]:
        seen.append(named)
        return {named[-1][0], named[-2][0]}

    part = parse_html(text, url, "botocore", pick=newest_two)
    assert [n for n, _ in seen[0]] == [f.filename for f in full.files]
    assert [y for _, y in seen[0]] == [bool(f.yanked) for f in full.files]
    assert part.files == full.files[-2:]


def test_pick_on_json_and_yanked_html() -> None:
    doc = {"name": "d", "files": [
        {"filename": "d-1.0.tar.gz", "url": "https://x/d-1.0.tar.gz", "hashes": {}},
        {"filename": "d-2.0.tar.gz", "url": "https://x/d-2.0.tar.gz", "hashes": {},
         "yanked": "bad"}]}
    page = parse_json(json.dumps(doc).encode(), "https://i/simple/d/",
                      pick=lambda named: {n for n, yanked in named if not yanked})
    assert [f.filename for f in page.files] == ["d-1.0.tar.gz"]
    html = ('<a href="d-1.0.tar.gz">d-1.0.tar.gz</a>'
            '<a href="d-2.0.tar.gz" data-yanked>d-2.0.tar.gz</a>'
            '<a href="d-3.0.tar.gz"> </a>')
    named_seen: list[tuple[str, bool]] = []
    parse_html(html, "https://i/simple/d/", "d", pick=lambda named: named_seen.extend(named) or ())
    assert named_seen == [("d-1.0.tar.gz", False), ("d-2.0.tar.gz", True), ("d-3.0.tar.gz", False)]
