"""canonicalize() restores uv's order: uv's locks are fixed points, shuffles come back."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from ghostenv.lock.canonical import canonicalize
from ghostenv.lock.read import read_lock
from ghostenv.lock.write import dumps

REPO = Path(__file__).resolve().parents[2]
LOCKS = [
    *sorted((REPO / "fixtures" / "locks").glob("*/uv.lock")),
    *sorted(Path("/work/shared/packse/uv-locks").glob("*.lock")),
    REPO / "examples" / "hello" / "uv.lock",
]


@pytest.mark.parametrize("path", LOCKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_uv_order_is_canonical_and_shuffles_come_back(path: Path) -> None:
    lock = read_lock(path)
    assert canonicalize(lock) == lock
    rng = random.Random(path.name)
    shuffled_packages = []
    for package in lock.packages:
        wheels = list(package.wheels)
        rng.shuffle(wheels)
        extras = list(package.optional_dependencies)
        rng.shuffle(extras)
        shuffled_packages.append(
            replace(package, wheels=tuple(wheels), optional_dependencies=tuple(extras))
        )
    rng.shuffle(shuffled_packages)
    shuffled = replace(lock, packages=tuple(shuffled_packages))
    assert dumps(canonicalize(shuffled)) == path.read_text(encoding="utf-8")
