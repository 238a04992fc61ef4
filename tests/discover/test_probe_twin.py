"""The probe cache's marshal twin: the JSON entry stays the record, the twin follows it."""

from __future__ import annotations

import json
import marshal
import os
from typing import TYPE_CHECKING

import pytest

from ghostenv.discover import probe
from ghostenv.discover.probe import cache_file, probe_cached
from tests.discover.test_find import _pyenv

if TYPE_CHECKING:
    from pathlib import Path


def test_twin_follows_the_json_entry(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = str(_pyenv("3.12"))
    data, cached = probe_cached(exe, cache_dir)  # probed: the JSON entry is written
    assert not cached
    entry = cache_file(cache_dir, exe)
    twin = entry.with_suffix(f".m{marshal.version}")
    assert probe_cached(exe, cache_dir) == (data, True)
    assert not twin.exists()  # the entry was written just now: not copied yet
    monkeypatch.setattr(probe, "_RACY_NS", 0)
    assert probe_cached(exe, cache_dir) == (data, True)
    assert twin.is_file()
    assert probe_cached(exe, cache_dir) == (data, True)  # (from the twin)

    doc = json.loads(entry.read_text())
    doc["probe"]["platform"] = "edited"  # the record changes: the twin no longer applies
    entry.write_text(json.dumps(doc))
    assert probe_cached(exe, cache_dir)[0]["platform"] == "edited"
    assert probe_cached(exe, cache_dir)[0]["platform"] == "edited"  # (twin refreshed)

    twin.write_bytes(b"\x00damaged")
    assert probe_cached(exe, cache_dir)[0]["platform"] == "edited"
    doc["key"][2] = 1  # another interpreter behind the path: probed again, twin or not
    entry.write_text(json.dumps(doc))
    os.utime(entry, ns=(0, 0))
    assert probe_cached(exe, cache_dir) == (data, False)
