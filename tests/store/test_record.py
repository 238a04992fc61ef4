"""store.record: the dataclass stand-in behaves like a frozen, slotted dataclass."""

from __future__ import annotations

import copy
import pickle

import pytest

from ghostenv.store.record import FrozenInstanceError, record, replace


@record(kw_only=True, compare=("name", "version"))
class Sample:
    """A record with a default, keyword-only construction and a field outside equality."""

    name: str
    version: str = "1.0"
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version}"


def test_init_defaults_equality_and_hash() -> None:
    a = Sample(name="demo")
    assert (a.name, a.version, a.note, a.label) == ("demo", "1.0", "", "demo==1.0")
    assert a == Sample(name="demo", note="ignored by ==")
    assert hash(a) == hash(Sample(name="demo", note="other"))
    assert a != Sample(name="demo", version="2.0")
    assert repr(a) == "Sample(name='demo', version='1.0', note='')"
    with pytest.raises(TypeError):
        Sample("demo")  # type: ignore[misc]
    with pytest.raises(TypeError):
        Sample()  # type: ignore[call-arg]
    assert not hasattr(a, "__dict__")


def test_frozen_but_copyable_and_picklable() -> None:
    a = Sample(name="demo", note="x")
    with pytest.raises(FrozenInstanceError):
        a.name = "other"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del a.note
    for clone in (copy.copy(a), copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert clone == a
        assert clone.note == "x"
    changed = replace(a, version="3")
    assert (changed.version, changed.note, a.version) == ("3", "x", "1.0")
