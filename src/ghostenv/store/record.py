"""Frozen, slotted record classes without importing :mod:`dataclasses`.

The install engine, the store and the venv factory sit on the fast path of
``ghostenv sync --frozen`` and ``ghostenv venv``, where every millisecond of
start-up shows: ``dataclasses`` pulls in ``inspect`` (with ``ast``, ``dis`` and
``tokenize``) and each decorated class compiles several methods, ~10 ms in all
on a slow machine. :func:`record` does the part these modules use -- an
``__init__`` from the annotations (defaults allowed), ``__slots__``,
immutability, value equality, hashing, copying and a readable ``repr`` --
without compiling anything. Type checkers see it as a frozen dataclass
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


def _make_init(qualname: str, names: tuple[str, ...], defaults: dict[str, Any], *,
               kw_only: bool, frozen: bool) -> Callable[..., None]:
    """The ``__init__`` of a record: a closure over its field names, nothing compiled.

    Generating source and compiling it (what dataclasses does) costs ~0.1-0.5 ms per
    class on a slow machine, paid at import by every command; binding arguments in
    a loop costs a few microseconds per instance, and records are made by the dozen.
    """
    count = len(names)
    setter = object.__setattr__ if frozen else setattr

    def __init__(self: object, *args: Any, **kwargs: Any) -> None:
        if args:
            if kw_only or len(args) > count:
                raise TypeError(f"{qualname}() takes {0 if kw_only else count} positional "
                                f"arguments but {len(args)} were given")
            for name, value in zip(names, args, strict=False):
                if name in kwargs:
                    raise TypeError(f"{qualname}() got multiple values for argument {name!r}")
                kwargs[name] = value
        for name in names:
            if name in kwargs:
                value = kwargs.pop(name)
            elif name in defaults:
                value = defaults[name]
            else:
                raise TypeError(f"{qualname}() missing required argument: {name!r}")
            setter(self, name, value)
        if kwargs:
            raise TypeError(f"{qualname}() got unexpected keyword arguments: "
                            f"{', '.join(sorted(kwargs))}")

    __init__.__qualname__ = f"{qualname}.__init__"
    return __init__


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
        init = _make_init(cls.__qualname__, tuple(names), defaults, kw_only=kw_only,
                          frozen=frozen)
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
