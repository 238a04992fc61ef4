"""The frozen fast path picks the packages and wheels the full path picks.

In process, on every lock fixture (ghostenv's and packse's uv-written locks):
for several interpreters' marker environments and every kind of selection,
:func:`ghostenv.workflow.frozen._select` + ``_wheel`` must name the same
packages, versions and wheel files as :func:`ghostenv.lock.export.select_packages`
+ :func:`ghostenv.workflow.sources.choose_wheel`, or decline (fall back).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ghostenv.errors import GhostenvError
from ghostenv.lock.export import ExportOptions, roots, select_packages
from ghostenv.lock.read import read_lock
from ghostenv.lock.scan import scan
from ghostenv.workflow import frozen_select
from ghostenv.workflow.frozen_python import Fallback
from ghostenv.workflow.sources import choose_wheel
from tests.conftest import REPO, SHARED
from tests.workflow.test_fast_markers import ENVS

LOCKS = sorted([*REPO.glob("fixtures/locks/*/uv.lock"),
                *(SHARED / "packse" / "uv-locks").glob("*.lock")])
TAGS = {
    "linux": ["cp312-cp312-manylinux_2_17_x86_64", "cp312-abi3-manylinux_2_17_x86_64",
              "cp312-none-manylinux_2_17_x86_64", "cp312-cp312-linux_x86_64",
              "cp312-abi3-linux_x86_64", "py3-none-manylinux_2_17_x86_64", "cp312-none-any",
              "py312-none-any", "py3-none-any", "py311-none-any", "py2.py3-none-any"],
    "win32": ["pp39-pypy39_pp73-win_amd64", "pp39-none-win_amd64", "py3-none-win_amd64",
              "pp39-none-any", "py39-none-any", "py3-none-any"],
    "darwin": ["cp310-cp310-macosx_11_0_arm64", "cp310-abi3-macosx_11_0_arm64",
               "cp310-cp310-macosx_11_0_universal2", "py3-none-macosx_11_0_arm64",
               "cp310-none-any", "py310-none-any", "py3-none-any"],
}
SELECTIONS = [
    {"groups": ["dev"]},
    {"groups": []},
    {"groups": [], "all_groups": True, "all_extras": True},
    {"groups": ["dev"], "all_extras": True},
]


def _options(sel: dict[str, object], lock_doc: dict[str, object]) -> ExportOptions:
    del lock_doc
    return ExportOptions(groups=tuple(sel["groups"]),  # type: ignore[arg-type]
                         all_groups=bool(sel.get("all_groups")),
                         all_extras=bool(sel.get("all_extras")))


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: p.parent.name if p.name == "uv.lock"
                         else p.name.removesuffix(".uv.lock"))
def test_same_packages_and_wheels_as_the_full_path(path: Path) -> None:
    lock = read_lock(path)
    text = path.read_text("utf-8")
    doc = scan(text) or tomllib.loads(text)  # what the fast path reads
    packages = doc.get("package", [])
    root_names = [p.name for p in roots(lock)]
    compared = 0
    for env in ENVS:
        tags = TAGS[env["sys_platform"]]
        rank = {tag: i for i, tag in enumerate(tags)}
        for sel in SELECTIONS:
            for project in (root_names[0] if root_names else "none", "not-in-the-lock"):
                try:
                    chosen = frozen_select.select(
                        packages, doc, project, env=env, groups=list(sel["groups"]),  # type: ignore[call-overload]
                        extras=[], all_groups=bool(sel.get("all_groups")),
                        all_extras=bool(sel.get("all_extras")))
                except Fallback:
                    continue
                lock_project = project if project in root_names else None
                want = select_packages(lock, _options(sel, doc), env, lock_project)
                assert [packages[i]["name"] for i in chosen] == [p.name for p in want]
                for index, package in zip(chosen, want, strict=True):
                    try:
                        full = choose_wheel(package, tags, path.parent)
                    except GhostenvError:
                        full = None
                    try:
                        fast = frozen_select.wheel(packages[index], rank)
                    except Fallback:
                        continue  # the full path decides (an sdist, a source tree, an error)
                    assert full is not None, package.name
                    assert not full.sdist, package.name
                    quick = frozen_select.wheel(packages[index], rank,
                                                frozen_select.platforms(rank))
                    assert quick == fast, package.name
                    assert (fast.name, fast.version, fast.filename, fast.url, fast.sha256) == (
                        full.name, full.version, full.filename, full.url, full.sha256)
                    compared += 1
    if "packse" not in str(path):
        assert compared, "the fast path declined every package of a real lock"
