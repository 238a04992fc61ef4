"""The record of one probed interpreter, built from the probe's raw JSON.

Platform tags are computed here, in the ghostenv process, with
``packaging.tags`` from the probe's raw data (version, implementation, ABI
flags, platform), so the probe itself stays stdlib-only and 2.7-safe.
"""

from __future__ import annotations

import os

from ghostenv.discover.probe import PREFIX_TOKEN
from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from packaging.tags import Tag

#: Oldest Python ghostenv creates environments for; older ones are listed as too old.
MIN_SUPPORTED = (3, 8)


def _path(value: str) -> Path:
    from pathlib import Path

    return Path(value)


@record(kw_only=True, compare=("path_str", "version", "release_level", "serial",
                             "implementation", "implementation_version", "abiflags",
                             "prefix_str", "base_prefix_str", "executable_str",
                             "base_executable_str", "platform", "pointer_bits", "source"))
class Interpreter:
    """A working Python found on this machine.

    ``path`` is the executable as found (what the user would type);
    ``base_executable`` is the interpreter a new venv should point at (differs
    from ``path`` when ``path`` lives in a virtual environment). ``paths`` are
    sysconfig install paths *relative to the environment root* (``purelib``,
    ``platlib``, ``scripts``, ``include``, ``data``), for a venv layout.

    The file system locations are kept as strings (``path_str``, ...) and
    offered as ``Path`` properties: the install path then never imports
    ``pathlib`` (~4 ms with what it pulls in).
    """

    path_str: str
    version: tuple[int, int, int]
    release_level: str
    serial: int
    implementation: str
    implementation_version: str
    abiflags: str
    prefix_str: str
    base_prefix_str: str
    executable_str: str
    base_executable_str: str
    platform: str
    pointer_bits: int
    # Derived from the same probe as the fields above; kept out of eq/hash so an
    # Interpreter can be a dict key or set member.
    markers: dict[str, str]
    paths: dict[str, str]
    config_vars: dict[str, Any]
    source: str = ""
    #: Wheel tags as strings, computed once when the probe ran and cached with it.
    tag_cache: tuple[str, ...] = ()

    @classmethod
    def from_probe(cls, path: str | Path, data: dict[str, Any], *, source: str = "") -> Interpreter:
        """Build from the probe's JSON (see :data:`ghostenv.discover.probe.PROBE_SCRIPT`)."""
        vi = data["version_info"]
        rel: dict[str, str] = {}
        for key, value in (data.get("paths") or {}).items():
            if isinstance(value, str) and value.startswith(PREFIX_TOKEN):
                rel[key] = value[len(PREFIX_TOKEN):].lstrip("/\\") or "."
        return cls(
            path_str=os.fspath(path),
            version=(int(vi[0]), int(vi[1]), int(vi[2])),
            release_level=str(vi[3]),
            serial=int(vi[4]),
            implementation=str(data["implementation"]),
            implementation_version=str(data["implementation_version"]),
            abiflags=str(data.get("abiflags") or ""),
            prefix_str=str(data["prefix"]),
            base_prefix_str=str(data["base_prefix"]),
            executable_str=str(data["executable"]),
            base_executable_str=str(data["base_executable"]),
            platform=str(data["platform"]),
            pointer_bits=int(data.get("pointer_bits", 64)),
            markers=dict(data.get("markers") or {}),
            paths=rel,
            config_vars=dict(data.get("config_vars") or {}),
            source=source,
            tag_cache=tuple(data.get("ghostenv_tags") or ()),
        )

    @property
    def path(self) -> Path:
        """The executable as found."""
        return _path(self.path_str)

    @property
    def prefix(self) -> Path:
        """``sys.prefix`` of the interpreter."""
        return _path(self.prefix_str)

    @property
    def base_prefix(self) -> Path:
        """``sys.base_prefix`` of the interpreter."""
        return _path(self.base_prefix_str)

    @property
    def executable(self) -> Path:
        """``sys.executable`` of the interpreter."""
        return _path(self.executable_str)

    @property
    def base_executable(self) -> Path:
        """The interpreter a new venv points at."""
        return _path(self.base_executable_str)

    @property
    def version_str(self) -> str:
        """``3.12.1`` (plus ``a1``/``rc2`` for pre-releases)."""
        base = ".".join(map(str, self.version))
        tag = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(self.release_level)
        return f"{base}{tag}{self.serial}" if tag else base

    @property
    def python_version(self) -> str:
        """``3.12``: the ``X.Y`` used in ``lib/pythonX.Y``."""
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def is_virtualenv(self) -> bool:
        return self.prefix_str != self.base_prefix_str

    @property
    def supported(self) -> bool:
        return self.version >= MIN_SUPPORTED

    @property
    def free_threaded(self) -> bool:
        return bool(self.config_vars.get("Py_GIL_DISABLED")) or "t" in self.abiflags

    @property
    def key(self) -> str:
        """``cpython-3.12.1``: implementation and version, how lists name it."""
        suffix = "+freethreaded" if self.free_threaded else ""
        return f"{self.implementation}-{self.version_str}{suffix}"

    def tags(self) -> list[Tag]:
        """Wheel tags this interpreter accepts, most specific first.

        Computed with ``packaging.tags`` from the probed data; platform tags
        (manylinux/musllinux/macOS) come from this machine, which is the
        machine the interpreter runs on.
        """
        from packaging import tags

        major, minor = self.version[:2]
        platforms = list(tags.platform_tags())
        if self.implementation == "cpython":
            abi = f"cp{major}{minor}{self.abiflags if self.version >= (3, 8) else ''}"
            abis = [abi, "abi3", "none"] if not self.free_threaded else [abi, "none"]
            result = list(tags.cpython_tags((major, minor), abis, platforms))
            result += list(tags.compatible_tags((major, minor), f"cp{major}{minor}", platforms))
            return result
        soabi = str(self.config_vars.get("SOABI") or "")
        abi_list = [soabi.replace("-", "_").replace(".", "_")] if soabi else []
        interp_tag = f"{_short_impl(self.implementation)}{major}{minor}"
        result = list(tags.generic_tags(interp_tag, [*abi_list, "none"], platforms))
        result += list(tags.compatible_tags((major, minor), interp_tag, platforms))
        return result

    def tag_strings(self) -> list[str]:
        """:meth:`tags` as strings, most specific first, from the probe cache when it has them.

        Computing tags costs ~20 ms (``packaging.tags`` walks glibc and the
        manylinux rules); the cached list costs nothing.
        """
        if self.tag_cache:
            return list(self.tag_cache)
        return [str(t) for t in self.tags()]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view, used by ``ghostenv python ... --json``."""
        return {
            "path": str(self.path),
            "key": self.key,
            "version": self.version_str,
            "implementation": self.implementation,
            "implementation_version": self.implementation_version,
            "abiflags": self.abiflags,
            "prefix": str(self.prefix),
            "base_prefix": str(self.base_prefix),
            "executable": str(self.executable),
            "base_executable": str(self.base_executable),
            "platform": self.platform,
            "source": self.source,
            "supported": self.supported,
            "markers": self.markers,
            "paths": self.paths,
        }


def _short_impl(name: str) -> str:
    return {"cpython": "cp", "pypy": "pp", "ironpython": "ip", "jython": "jy"}.get(name, name)
