"""PEP 503 HTML simple pages, parsed with one regex pass instead of html.parser.

Why a regex: the anchors a simple index emits are flat (no nested tags), so one scan over
``<a ...>text</a>`` and one over each anchor's attributes is enough; no per-tag callbacks,
no tree. botocore's 4,984-anchor page (1.3 MB) parses in ~20 ms; ``html.parser`` needs
~55 ms just to tokenize it, before any handling. Attributes may span lines,
and values may hold raw ``<``/``>`` (``data-requires-python=">=3.8"``), so the attribute
pattern consumes quoted strings whole before looking for the closing ``>``.
"""

from __future__ import annotations

import html as _html
import os
import re
from collections.abc import Callable, Container
from urllib.parse import urljoin

from ghostenv.index.models import DistFile, ProjectPage, normalize_name

# "unrolled loop": runs of plain characters, then whole quoted strings, so a raw ">" inside
# a quoted value never ends the tag and the engine does not try one alternative per char.
_ANCHOR = re.compile(
    r"""<a\s([^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*)>([^<]*(?:<(?!/a)[^<]*)*)</a\s*>""",
    re.IGNORECASE,
)
_ATTR = re.compile(r"""([\w:-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_META = re.compile(r"<meta\s((?:[^>\"']|\"[^\"]*\"|'[^']*')*)/?>", re.IGNORECASE)
_BASE = re.compile(r"<base\s[^>]*href\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
# the names-only scan of a plain page: each anchor's text, no attribute captured; case
# sensitive, so the literal "<a" is searched fast (an <A> anchor shows as a count mismatch)
_TEXT = re.compile(r"<a\s[^>]*>([^<]*)</a\s*>")
_OPEN = re.compile(r"<a\s", re.IGNORECASE)


def _attrs(text: str) -> dict[str, str]:
    # findall builds the tuples in C; a bare attribute (data-yanked) reads as ""
    out: dict[str, str] = {}
    for key, double, single, bare in _ATTR.findall(text):
        value = double or single or bare
        if "&" in value:
            value = value.replace("&gt;", ">").replace("&lt;", "<")
            if "&" in value:
                value = _html.unescape(value)
        out[key.lower()] = value
    return out


def _hashes_from_fragment(url: str) -> tuple[str, dict[str, str]]:
    base, sep, fragment = url.partition("#")
    if not sep:
        return url, {}
    algo, eq, digest = fragment.partition("=")
    if eq and algo in ("sha256", "sha384", "sha512", "md5", "sha1", "sha224"):
        return base, {algo: digest.lower()}
    return base, {}


def _metadata_attr(value: str | None) -> bool | dict[str, str]:
    if value is None or value.lower() == "false":
        return False
    algo, eq, digest = value.partition("=")
    if eq:
        return {algo.strip(): digest.strip().lower()}
    return True


#: Chooses which files to parse fully, from (filename, yanked) of every file on the page.
Pick = Callable[[list[tuple[str, bool]]], Container[str]]


def _filename(anchor_text: str, attrs_text: str) -> str:
    filename = anchor_text.strip()
    if "<" in filename or not filename:
        href = _attrs(attrs_text).get("href", "")
        filename = href.partition("#")[0].rsplit("/", 1)[-1]
    if "&" in filename:
        filename = _html.unescape(filename)
    return filename


def _plain_names(text: str) -> tuple[list[str], list[tuple[str, bool]], str, bool] | None:
    """(raw anchor texts, (filename, yanked) pairs, lower-cased text, whether every raw
    text is its filename already (nothing to strip)) of a plain page.

    Plain: ASCII, and every anchor is ``<a attrs>filename</a>`` with no quote, ``<``,
    ``>`` or ``&`` in its text, none empty, and no yanked filename listed twice: then
    the text is the filename, and a scan that captures only the texts (not ~250
    characters of attributes per anchor) finds them all; the few yanked anchors are
    found from their ``data-yanked`` attribute. Anything else (a raw ``>`` in an
    attribute value shows up as a quote in a captured text, nested tags as a count
    mismatch) takes the general path, so the answer never differs.
    """
    if not text.isascii():  # then lower() keeps every offset
        return None
    raw = _TEXT.findall(text)
    if len(raw) != len(_OPEN.findall(text)):
        return None
    names = [t.strip() for t in raw]
    same = names == raw  # no text to strip (PyPI's pages)
    joined = "\0".join(names)
    if "" in names or any(c in joined for c in "\"'<>&"):
        return None
    lower = text.lower()
    yanked: set[str] = set()
    at = lower.find("data-yanked")
    while at >= 0:
        match = _TEXT.match(text, lower.rfind("<a", 0, at))
        if match is None:
            return None
        yanked.add(match.group(1))
        at = lower.find("data-yanked", at + 11)
    if not yanked:
        return raw, [(n, False) for n in names], lower, same
    if len(set(raw)) != len(raw):  # is a yanked text also the text of another anchor?
        seen: set[str] = set()
        if any(r in seen or seen.add(r) for r in raw if r in yanked):  # type: ignore[func-returns-value]
            return None
    return raw, [(n, r in yanked) for r, n in zip(raw, names, strict=True)], lower, same


def _picked_anchors_general(text: str, pick: Pick) -> list[tuple[str, str]]:
    """:func:`_picked_anchors` for any page: every anchor's attributes are scanned."""
    anchors = _ANCHOR.findall(text)
    named = [(_filename(body, attrs_text), "data-yanked" in attrs_text.lower())
             for attrs_text, body in anchors]
    wanted = pick(named)
    return [a for a, (filename, _) in zip(anchors, named, strict=True) if filename in wanted]


def _picked_anchors(text: str, pick: Pick) -> list[tuple[str, str]]:
    """(attributes, text) of the anchors ``pick`` chooses; all filenames are scanned."""
    plain = _plain_names(text)
    if plain is None:
        return _picked_anchors_general(text, pick)
    raw, named, lower, same = plain
    wanted = pick(named)
    if same and isinstance(wanted, (set, frozenset)):
        bodies = set(wanted)  # texts are the filenames: no pass over every anchor
    else:
        bodies = {r for r, (n, _) in zip(raw, named, strict=True) if n in wanted}
    if not bodies:
        return []
    # one scan for what the chosen texts share (``lxml-6.0.2``: lxml's newest release
    # alone has ~100 files), in the lower-cased text (``PyYAML-6.0`` and ``pyyaml-6.0``)
    prefix = ">" + os.path.commonprefix([b.lower() for b in bodies])  # noqa: RUF071 - text
    anchors = []
    at = lower.find(prefix)
    while at >= 0:
        end = text.find("<", at)
        if text[at + 1:end] in bodies and text.startswith("</", end):
            match = _ANCHOR.match(text, lower.rfind("<a", 0, at))
            if match is not None:
                anchors.append((match.group(1), match.group(2)))
        at = lower.find(prefix, at + 1)
    return anchors


def parse_html(text: str, page_url: str, name: str = "", *,
               pick: Pick | None = None) -> ProjectPage:
    """Parse a PEP 503 page; hrefs resolve against ``page_url`` (or a ``<base href>``).

    ``pick`` (peek's newest-version question) sees every (filename, yanked) first,
    found by one C-level regex pass, and only the files it returns are parsed into
    :class:`DistFile` objects: the per-attribute work is what costs on pages with
    thousands of files (the top 100 projects list 140,000).
    """
    api_version = None
    head_end = text.find("<a ")
    head = text if head_end < 0 else text[:head_end]
    for m in _META.finditer(head):
        attrs = _attrs(m.group(1))
        if attrs.get("name") == "pypi:repository-version":
            api_version = attrs.get("content")
    base = _BASE.search(head)
    base_url = urljoin(page_url, base.group(1)) if base else page_url
    files: list[DistFile] = []
    seen: set[str] = set()
    anchors = _ANCHOR.findall(text) if pick is None else _picked_anchors(text, pick)
    for attrs_text, body in anchors:
        attrs = _attrs(attrs_text)
        href = attrs.get("href")
        if not href:
            continue
        # absolute hrefs (PyPI's) skip urljoin, which is most of the per-anchor cost
        absolute = href.startswith(("https://", "http://")) and "/." not in href
        url, hashes = _hashes_from_fragment(href if absolute else urljoin(base_url, href))
        filename = body.strip()
        if "<" in filename or not filename:
            filename = url.rsplit("/", 1)[-1]
        if "&" in filename:
            filename = _html.unescape(filename)
        if url in seen:  # duplicate anchors: the first one wins
            continue
        seen.add(url)
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = attrs["data-yanked"] or True
        core = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        size = attrs.get("data-size")
        files.append(DistFile(
            filename=filename,
            url=url,
            hashes=hashes,
            requires_python=attrs.get("data-requires-python") or None,
            yanked=yanked,
            core_metadata=_metadata_attr(core),
            # not in PEP 503, but PyPI and its mirrors emit them (uv.lock records both)
            upload_time=attrs.get("data-upload-time") or None,
            size=int(size) if size and size.isdigit() else None,
        ))
    return ProjectPage(
        name=normalize_name(name) if name else "",
        files=tuple(files),
        url=page_url,
        api_version=api_version,
    )
