"""A string enumeration for the install path, without importing :mod:`enum`.

``enum`` costs ~2 ms to import (it is a large module that builds its own
metaclass machinery), and the fresh-environment sync needs only what
``enum.StrEnum`` gives two small classes (``plan.Action``, ``link.LinkMode``):
members that are ``str`` instances equal to their values, lookup by value
(``LinkMode("hardlink") is LinkMode.HARDLINK``, ValueError otherwise),
iteration in definition order, ``.name``/``.value``, ``str()`` = the value, a
readable ``repr``, and copying/pickling back to the same member. Type checkers
see ``enum.StrEnum`` itself (``TYPE_CHECKING`` in the users), so typing is the
real enum's. ``tests/test_strenum.py`` compares the two behaviour by behaviour.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


class _Meta(type):
    """Collects the upper-case string attributes of a subclass as its members."""

    _members: dict[str, StrEnum]
    _by_value: dict[str, StrEnum]

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _Meta:
        values = {key: value for key, value in ns.items()
                  if not key.startswith("_") and isinstance(value, str)}
        for key in values:
            del ns[key]
        cls = super().__new__(mcs, name, bases, ns)
        members: dict[str, StrEnum] = {}
        by_value: dict[str, StrEnum] = {}
        for key, value in values.items():
            member: StrEnum = str.__new__(cls, value)  # type: ignore[arg-type]
            member._name_ = key
            if value in by_value:
                raise ValueError(f"{name}: {key} repeats the value {value!r}")
            members[key] = by_value[value] = member
            type.__setattr__(cls, key, member)
        cls._members = members
        cls._by_value = by_value
        return cls

    def __call__(cls, value: object) -> StrEnum:
        try:
            return cls._by_value[value]  # type: ignore[index]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

    def __iter__(cls) -> Iterator[StrEnum]:
        return iter(cls._members.values())

    def __len__(cls) -> int:
        return len(cls._members)

    def __contains__(cls, value: object) -> bool:
        return isinstance(value, cls)

    def __setattr__(cls, name: str, value: object) -> None:
        if name in cls.__dict__.get("_members", {}):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)


class StrEnum(str, metaclass=_Meta):
    """Subclass with ``NAME = "value"`` lines, as ``enum.StrEnum``."""

    _name_: str  # (a str subclass may not have __slots__ holding anything)

    @property
    def name(self) -> str:
        return self._name_

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(str.__str__(self), spec)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self._name_}: {str.__repr__(self)}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (str.__str__(self),)

    def __copy__(self) -> StrEnum:
        return self

    def __deepcopy__(self, memo: object) -> StrEnum:
        return self

    def __hash__(self) -> int:
        return str.__hash__(self)
