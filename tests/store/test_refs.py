"""Environment records: named by the escaped path now, digest-named ones still read."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from ghostenv.store.refs import ENVS, environments, forget, installed_wheels, path_key, track


def test_old_digest_named_records_are_read_merged_and_forgotten(tmp_path: Path) -> None:
    root, env = tmp_path / "store", tmp_path / "env"
    env.mkdir()
    old = root / ENVS / f"{hashlib.sha256(os.fsencode(env)).hexdigest()[:32]}.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"path": str(env), "wheels": ["a" * 64],
                               "installed": {"demo": "a" * 64}}))
    assert installed_wheels(root, env) == {"demo": "a" * 64}
    track(root, env, ["b" * 64], replace=True)
    assert (root / ENVS / f"{path_key(env)}.json").is_file()
    records = list(environments(root))
    assert len(records) == 1
    assert records[0].wheels == {"a" * 64, "b" * 64}
    track(root, env, ["c" * 64])  # adding reads the new record
    assert next(environments(root)).wheels >= {"b" * 64, "c" * 64}
    forget(root, env)
    assert list(environments(root)) == []
    assert not old.exists()


def test_long_paths_fall_back_to_a_digest(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["x" * 40] * 6)
    assert len(path_key(deep)) == 32
    assert "%2F" in path_key(tmp_path)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=4),
       st.text(max_size=30), st.lists(st.text(max_size=12), max_size=4))
def test_plain_record_text_is_what_the_json_encoder_writes(
        installed: dict[str, str], path: str, wheels: list[str]) -> None:
    from ghostenv.store import jsonlite
    from ghostenv.store.refs import _dumps_plain

    doc = {"installed": installed, "path": path, "wheels": wheels}
    text = _dumps_plain(doc)
    if text is not None:  # (None: a string needs escaping; the encoder writes it)
        assert text == jsonlite.dumps(doc)
    plain = {"installed": {"numpy": "ab" * 32}, "path": "/home/u/p/.venv", "wheels": ["cd" * 32]}
    assert _dumps_plain(plain) == jsonlite.dumps(plain)


def test_an_unchanged_record_is_not_rewritten(tmp_path: Path) -> None:
    env = tmp_path / "env"
    env.mkdir()
    wheels = ["ab" * 32, "cd" * 32]
    track(tmp_path, env, wheels, replace=True, installed={"a": "ab" * 32})
    record = next((tmp_path / ENVS).glob("*.json"))
    before = record.stat().st_ino
    track(tmp_path, env, reversed(wheels), replace=True, installed={"a": "ab" * 32})
    assert record.stat().st_ino == before  # the same text: left alone
    track(tmp_path, env, wheels[:1], replace=True, installed={"a": "ab" * 32})
    assert record.stat().st_ino != before  # other wheels: rewritten
    assert json.loads(record.read_text())["wheels"] == wheels[:1]
    assert installed_wheels(tmp_path, env) == {"a": "ab" * 32}
