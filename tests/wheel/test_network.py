"""Remote wheel-meta against the real PyPI on a very large (>100 MB) wheel."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import run_ghostenv

SIMPLE = "https://pypi.org/simple/torch/"
LINK = re.compile(r'href="(https://[^"#]+/torch-[0-9.]+-cp311-cp311-manylinux[^"#]*x86_64\.whl)')


def _torch_wheel_url() -> str:
    httpx = pytest.importorskip("httpx")
    try:
        page = httpx.get(SIMPLE, timeout=20, follow_redirects=True)
    except httpx.HTTPError as exc:
        pytest.skip(f"PyPI unreachable: {exc}")
    if page.status_code != 200:
        pytest.skip(f"PyPI answered {page.status_code}")
    links = LINK.findall(page.text)
    if not links:
        pytest.skip("no cp311 manylinux x86_64 torch wheel listed")
    return str(links[-1])


@pytest.mark.network
def test_torch_wheel_metadata_costs_three_requests_at_most() -> None:
    url = _torch_wheel_url()
    proc = run_ghostenv("-v", "wheel-meta", url, "--json", check=True)
    doc = json.loads(proc.stdout)
    assert doc["name"] == "torch"
    size = doc["size"]
    assert size > 100_000_000
    assert doc["io"]["requests"] <= 3
    assert doc["io"]["bytes_transferred"] < size * 0.005
