"""Placeholder; replaced below."""

from __future__ import annotations

from ghostenv.resolve.incompatibility import Incompatibility


def describe(incompatibility: Incompatibility) -> str:
    return " and ".join(str(t) for t in incompatibility.terms)


def explain(incompatibility: Incompatibility) -> str:
    return describe(incompatibility)
