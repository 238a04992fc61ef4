"""ghostenv._strenum.StrEnum behaves as enum.StrEnum wherever the install path uses it."""

from __future__ import annotations

import copy
import enum
import pickle
import subprocess
import sys

import pytest

from ghostenv._strenum import StrEnum


class Light(StrEnum):
    CLONE = "clone"
    HARDLINK = "hardlink"
    COPY = "copy"


class Real(enum.StrEnum):
    CLONE = "clone"
    HARDLINK = "hardlink"
    COPY = "copy"


@pytest.mark.parametrize("use", [
    lambda c: [m.value for m in c],
    lambda c: [m.name for m in c],
    lambda c: [str(m) for m in c],
    lambda c: [f"{m}|{m:>10}" for m in c],
    lambda c: [m == m.value for m in c],
    lambda c: [hash(m) == hash(m.value) for m in c],
    lambda c: [isinstance(m, str) and isinstance(m, c) for m in c],
    lambda c: [c(m.value) is m and c(m) is m for m in c],
    lambda c: [copy.copy(m) is m and copy.deepcopy(m) is m for m in c],
    lambda c: [pickle.loads(pickle.dumps(m)) is m for m in c],
    len,
    lambda c: sorted({c.COPY: 1, "copy": 2}.items()),
    ",".join,
    lambda c: c.HARDLINK + "-x",
    lambda c: (c.CLONE in c, "nope" in list(c)),
    lambda c: repr(c.COPY).replace(c.__name__, "C"),
])
def test_behaves_as_enum_strenum(use: object) -> None:
    assert use(Light) == use(Real)  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["nope", None, 3, "HARDLINK"])
def test_unknown_value_is_a_value_error(bad: object) -> None:
    with pytest.raises(ValueError, match="is not a valid"):
        Light(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is not a valid"):
        Real(bad)


def test_members_cannot_be_reassigned() -> None:
    with pytest.raises(AttributeError):
        Light.COPY = "x"  # type: ignore[misc]


def test_importing_it_imports_no_enum() -> None:
    code = "import sys; import ghostenv._strenum; print('enum' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
