"""``ghostenv lock`` on every packse universal scenario writes uv's lock byte for byte.

uv 0.13.9 locked each scenario against the packse index served on port 3141
(``../shared/packse/uv-locks``); the same index is served here on another port,
so the expected text is uv's with that one URL swapped. Resolution (H2), file
selection, markers, metadata and layout (this package) all have to agree.
Runs in-process (one scenario is a few hundred ms).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ghostenv.resolve.index_source import IndexSettings
from ghostenv.workflow.lock import lock_project
from tests.support.index_plugin import packse_dir

PACKSE = packse_dir()
LOCKS = sorted((PACKSE / "uv-locks").glob("*.uv.lock")) if PACKSE.is_dir() else []


def _scenarios() -> dict[str, dict[str, object]]:
    doc = json.loads((PACKSE / "scenarios.json").read_text(encoding="utf-8"))
    return {s["name"]: s for group in doc.values() for s in group}


@pytest.fixture(scope="module")
def scenarios() -> dict[str, dict[str, object]]:
    return _scenarios()


def _pyproject(scenario: dict[str, object]) -> str:
    root = scenario["root"]
    options = scenario["resolver_options"]
    assert isinstance(root, dict)
    assert isinstance(options, dict)
    requires = [r["requirement"] for r in root["requires"]]
    text = (
        '[project]\nname = "project"\nversion = "0.1.0"\n'
        f'requires-python = "{root.get("requires_python") or ">=3.12"}"\n'
        f"dependencies = {json.dumps(requires)}\n"
    )
    required = options.get("required_environments")
    if required:
        text += f"[tool.uv]\nrequired-environments = {json.dumps(required)}\n"
    return text


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: p.name[: -len(".uv.lock")])
def test_same_bytes_as_uv(lock: Path, scenarios: dict[str, dict[str, object]],
                          packse_server: object, tmp_path: Path) -> None:
    url = packse_server.url  # type: ignore[attr-defined]
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(_pyproject(scenarios[lock.name[: -len(".uv.lock")]]))
    settings = IndexSettings(index_url=f"{url}/simple-html/", cache_dir=tmp_path / "cache")
    outcome = lock_project(root, settings=settings, cache_dir=tmp_path / "cache",
                           project_indexes=False)
    assert outcome.changed
    expected = lock.read_text(encoding="utf-8").replace("http://127.0.0.1:3141", url)
    assert (root / "uv.lock").read_text(encoding="utf-8") == expected
    if "resolution-markers" not in expected:
        return
    # Seeded re-lock (forced by upgrading a package nobody uses): uv's forks and
    # versions come back as they are, so the file is not touched.
    outcome = lock_project(root, settings=settings, cache_dir=tmp_path / "cache",
                           project_indexes=False, upgrade=frozenset({"not-a-dependency"}))
    assert not outcome.changed
    assert (root / "uv.lock").read_text(encoding="utf-8") == expected
