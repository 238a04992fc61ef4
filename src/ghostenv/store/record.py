"""Frozen, slotted record classes without importing :mod:`dataclasses`.

The install engine, the store and the venv factory sit on the fast path of
``ghostenv sync --frozen`` and ``ghostenv venv``, where every millisecond of
start-up shows: ``dataclasses`` pulls in ``inspect`` (with ``ast``, ``dis`` and
``tokenize``) and each decorated class compiles several methods, ~10 ms in all
on a slow machine. :func:`record` does the part these modules use -- an
``__init__`` from the annotations (defaults allowed), ``__slots__``,
immutability, value equality, hashing and a readable ``repr`` -- with one small
generated ``__init__`` per class. Type checkers see it as a frozen dataclass
(``typing.dataclass_transform``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    T = TypeVar("T")
else:
    def dataclass_transform(**_options: object) -> object:
        return lambda function: function


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


def _frozen_setattr(self: object, name: str, _value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen record")


def _frozen_delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen record")


def _values(self: object) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__compare__)  # type: ignore[attr-defined]


def _eq(self: object, other: object) -> Any:  # bool, or NotImplemented
    if other.__class__ is not self.__class__:
        return NotImplemented
    return bool(_values(self) == _values(other))


def _hash(self: object) -> int:
    return hash(_values(self))


def _getstate(self: object) -> tuple[Any, ...]:
    return tuple(getattr(self, name) for name in type(self).__slots__)  # type: ignore[attr-defined]


def _setstate(self: object, state: tuple[Any, ...]) -> None:
    for name, value in zip(type(self).__slots__, state, strict=True):  # type: ignore[attr-defined]
        object.__setattr__(self, name, value)


def _repr(self: object) -> str:
    fields = ", ".join(f"{name}={getattr(self, name)!r}"
                       for name in type(self).__slots__)  # type: ignore[attr-defined]
    return f"{type(self).__name__}({fields})"


@dataclass_transform(frozen_default=True)
def record(*, kw_only: bool = False, compare: tuple[str, ...] | None = None,
           frozen: bool = True) -> Callable[[type[T]], type[T]]:
    """Class decorator: a slotted record of the annotated fields (frozen by default).

    ``compare`` names the fields that take part in ``==`` and ``hash`` (default:
    all). Mutable defaults are not supported (use a tuple, or give the field
    no default).
    """
    def wrap(cls: type[T]) -> type[T]:
        # the class's own annotations, as strings (inspect is what this module avoids)
        names = list(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063
        defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        namespace = {key: value for key, value in cls.__dict__.items()
                     if key not in defaults and key not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = tuple(names)
        namespace["__compare__"] = tuple(names) if compare is None else compare
        params = [f"{n}=_d_{n}" if n in defaults else n for n in names]
        if kw_only and params:
            params.insert(0, "*")
        setter = "_set(self, {0!r}, {0})" if frozen else "self.{0} = {0}"
        body = "\n".join(f"    {setter.format(n)}" for n in names) or "    pass"
        source = f"def __init__(self, {', '.join(params)}):\n{body}\n"
        scope: dict[str, Any] = {f"_d_{n}": v for n, v in defaults.items()}
        scope["_set"] = object.__setattr__
        exec(source, scope)  # generated from the class's own field names
        init = scope["__init__"]
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        namespace["__init__"] = init
        namespace["__eq__"] = _eq
        namespace["__hash__"] = _hash if frozen else None
        namespace.setdefault("__repr__", _repr)
        namespace["__getstate__"] = _getstate  # copy and pickle, past the frozen __setattr__
        namespace["__setstate__"] = _setstate
        if frozen:
            namespace["__setattr__"] = _frozen_setattr
            namespace["__delattr__"] = _frozen_delattr
        made = type(cls.__name__, cls.__bases__, namespace)
        made.__qualname__ = cls.__qualname__
        return made
    return wrap


def replace(obj: T, **changes: Any) -> T:
    """A copy of record ``obj`` with some fields changed (``dataclasses.replace``)."""
    values = {name: getattr(obj, name) for name in type(obj).__slots__}  # type: ignore[attr-defined]
    values.update(changes)
    return type(obj)(**values)
