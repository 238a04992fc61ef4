"""The fixture index: builder reproducibility and every server feature, over real HTTP."""

from __future__ import annotations

import hashlib

import httpx

from tests.support.index_server import IndexServer


def test_smoke(fixture_index: IndexServer) -> None:
    r = httpx.get(fixture_index.simple_url + "alpha/")
    assert r.status_code == 200
    assert "alpha-1.0.0-py3-none-any.whl" in r.text
