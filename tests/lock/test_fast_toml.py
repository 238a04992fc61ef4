"""The fast uv-subset parser returns exactly what tomllib returns, or steps aside."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghostenv.lock.fast_toml import parse_canonical
from ghostenv.lock.toml_out import inline, multiline

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
LOCKS = sorted(
    [*REPO.glob("fixtures/locks/*/uv.lock"), *REPO.glob("examples/*/uv.lock"),
     *(SHARED / "packse" / "uv-locks").glob("*.lock")]
)


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_same_as_tomllib_on_real_locks(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = parse_canonical(text)
    if "conflicts = [[" in text or " # " in text:
        assert fast is None  # layouts the subset leaves to tomllib
    else:
        assert fast == tomllib.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        'a = "x" # comment\n',
        'a = "x\\ty"\n',
        "a = '''x'''\n",
        'a = """x"""\n',
        "a = 1.5\n",
        "a = 1979-05-27T07:32:00Z\n",
        'a = "x"\na = "y"\n',
        "[t]\n[t]\n",
        'a = "x"\r\n',
        '"quoted key" = 1\n',
        "a = { b = 1, b = 2 }\n",
        "a = [\n  1,\n]\n",
        "a = [\n    1\n]\n",
        "a = 01\n",
        "a = [1 2]\n",
    ],
)
def test_steps_aside_for_everything_else(text: str) -> None:
    assert parse_canonical(text) is None


_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12
)
_scalar = st.one_of(_plain, st.integers(-(10**6), 10**12), st.booleans())
_inline = st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True), _scalar,
                          max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.from_regex(r"[a-z][a-z-]{0,8}", fullmatch=True),
                    st.one_of(_scalar, _inline, st.lists(_scalar, max_size=3)), max_size=5),
    st.lists(_inline, max_size=4),
)
def test_writer_output_reads_back_like_tomllib(top: dict[str, object],
                                               items: list[dict[str, object]]) -> None:
    lines = [f"{key} = {inline(value)}" for key, value in top.items()]
    lines += ["", "[[package]]", *multiline("wheels", items)]
    text = "\n".join(lines) + "\n"
    expected = tomllib.loads(text)
    fast = parse_canonical(text)
    assert fast is None or fast == expected
