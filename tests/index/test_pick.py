"""peek's pick: the names-only scan of plain HTML pages and the newest-version choice give
exactly what the general (every attribute parsed, every version parsed) path gives."""

from __future__ import annotations

import html
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import InvalidVersion, Version

from ghostenv.cli.peek import _pick_newest, _version_of
from ghostenv.index.html import _picked_anchors, _picked_anchors_general, _plain_names, parse_html

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "pages"


def _reference_newest(named: list[tuple[str, bool]]) -> set[str]:
    """The plain definition: parse every version, newest final else newest."""
    by_version: dict[Version, set[str]] = {}
    for filename, yanked in named:
        text = None if yanked else _version_of(filename)
        if text is None:
            continue
        try:
            by_version.setdefault(Version(text), set()).add(filename)
        except InvalidVersion:
            continue
    if not by_version:
        return set()
    finals = [v for v in by_version if not v.is_prerelease]
    return by_version[max(finals or by_version)]


_VERSIONS = ["1.0", "1.0.0", "1.2", "1.10", "1.9.9", "2.0rc1", "2.0.post1", "2.0", "2!0.1",
             "1.10.0+local", "v1.11", "0.9", "1.10.0.dev1", "bogus", "", "10", "1.2.0"]
_FILES = st.builds(
    lambda name, version, kind: (f"{name}-{version}.tar.gz" if kind == "sdist" else
                                 f"{name}-{version}.zip" if kind == "zip" else
                                 f"{name}-{version}-py3-none-any.whl" if kind == "wheel" else
                                 f"{name}-{version}-py3.whl"),  # too few tags: no version
    st.sampled_from(["pkg", "Pkg", "pkg_x", "old-style-name"]),
    st.sampled_from(_VERSIONS), st.sampled_from(["sdist", "zip", "wheel", "bad"]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_FILES, st.booleans()), max_size=25))
def test_pick_newest_matches_the_plain_definition(named: list[tuple[str, bool]]) -> None:
    assert _pick_newest(named) == _reference_newest(named)


def _page(anchors: list[tuple[str, bool, int]]) -> str:
    """A simple page; each anchor's style (0-6) varies the markup around the same file."""
    lines = ["<!DOCTYPE html><html><head><title>Links</title></head><body>"]
    for filename, yanked, style in anchors:
        href = f"https://files.example/{filename}#sha256={'ab' * 32}"
        extra = ' data-yanked="broken"' if yanked else ""
        if style == 1:  # raw > in a quoted value
            extra += ' data-requires-python=">=3.8"'
        elif style == 2:  # escaped, as PyPI writes it
            extra += ' data-requires-python="&gt;=3.8"'
        text = filename
        if style == 3:
            text = "  " + html.escape(filename).replace("-", "&#45;", 1)  # an entity
        elif style == 6:
            text = f"\n  {filename} "  # padding, stripped from the filename
        tag = "A" if style == 4 else "a"
        sep = "\n   " if style == 5 else " "
        lines.append(f'<{tag}{sep}href="{href}"{extra}>{text}</{tag}><br/>')
    lines.append("</body></html>")
    return "\n".join(lines)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_FILES, st.booleans(), st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6])),
                max_size=20))
def test_the_names_only_scan_picks_the_same_anchors(anchors: list[tuple[str, bool, int]]) -> None:
    text = _page(anchors)
    fast = _picked_anchors(text, _pick_newest)
    assert sorted(fast) == sorted(_picked_anchors_general(text, _pick_newest))
    picked = parse_html(text, "https://i/simple/pkg/", "pkg", pick=_pick_newest)
    expected = _reference_newest([(n.strip(), y) for n, y, _ in anchors])
    assert {f.filename for f in picked.files} == expected


def test_real_pages_take_the_names_only_scan_with_the_same_answer() -> None:
    for path in sorted(PAGES.glob("*.html")):
        text = path.read_text()
        fast = _picked_anchors(text, _pick_newest)
        assert fast == _picked_anchors_general(text, _pick_newest), path.name
    assert _plain_names((PAGES / "botocore.html").read_text()) is not None


def test_a_yanked_file_listed_twice_takes_the_general_path() -> None:
    text = _page([("pkg-2.0.tar.gz", True, 0), ("pkg-2.0.tar.gz", False, 0),
                  ("pkg-1.0.tar.gz", False, 0)])
    assert _plain_names(text) is None
    assert {body for _, body in _picked_anchors(text, _pick_newest)} == {"pkg-2.0.tar.gz"}


_PLAIN_NAMES = ["Requires-Dist", "requires-dist", "Requires-Python", "REQUIRES-PYTHON", "Name"]
_HEADER = st.tuples(
    st.sampled_from(_PLAIN_NAMES * 4 + ["Bad Name", "From x", "", "Requires-Dist "]),
    st.sampled_from([":", ": ", ":\t", ":  ", ":", ": ", ""]),
    # mostly plain values (the fast path), sometimes what sends a block to the email parser
    st.lists(st.sampled_from(list("ab<=>1.; '\"\t=?") * 8 + ["é", "\r", "\n "]),
             max_size=12).map("".join))


@settings(max_examples=400, deadline=None)
@given(st.lists(_HEADER, max_size=6), st.sampled_from(["\n", "\n", "\r\n"]),
       st.sampled_from(["", "\n", "\n\nbody: x\n", "\n\n\nRequires-Dist: late\n"]))
def test_metadata_fields_match_the_email_parser(headers: list[tuple[str, str, str]],
                                                newline: str, tail: str) -> None:
    from ghostenv.cli.peek import _fields, _fields_email

    text = newline.join(f"{name}{colon}{value}" for name, colon, value in headers) + tail
    data = text.encode("utf-8")
    assert _fields(data) == _fields_email(data)
