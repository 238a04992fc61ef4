"""The probe: a tiny script run once per candidate executable, and its cache.

The script must run on every Python a user might have lying around, including
2.7, so that a too-old interpreter is *reported* as too old instead of being
mistaken for a non-Python program. It therefore sticks to syntax and stdlib
modules that exist since 2.7 and prints one JSON object on stdout.

Results are cached under ``<cache>/interpreters-v1/`` keyed by the candidate
path and validated against ``(realpath, size, mtime_ns)`` of the file it
resolves to (and of an adjacent ``pyvenv.cfg``), so a second ``find`` costs a
few ``stat`` calls and a JSON read instead of a process start.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

#: Placeholder prefix: sysconfig paths are computed against it, then made relative.
PREFIX_TOKEN = "/__ghostenv_prefix__"

PROBE_SCRIPT = r"""
import json, os, platform, sys
try:
    import sysconfig
except ImportError:
    sysconfig = None
impl = getattr(sys, "implementation", None)
impl_name = impl.name if impl is not None else platform.python_implementation().lower()
if impl is not None:
    iv = impl.version
    impl_version = "%d.%d.%d" % (iv[0], iv[1], iv[2])
    if iv[3] != "final":
        level = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(iv[3], iv[3])
        impl_version += level + str(iv[4])
else:
    impl_version = platform.python_version()
TOKEN = "/__ghostenv_prefix__"
paths = {}
config_vars = {}
if sysconfig is not None:
    schemes = sysconfig.get_scheme_names()
    if "venv" in schemes:
        scheme = "venv"
    elif os.name == "nt":
        scheme = "nt"
    else:
        scheme = "posix_prefix"
    v = {"base": TOKEN, "platbase": TOKEN, "installed_base": TOKEN, "installed_platbase": TOKEN}
    try:
        paths = sysconfig.get_paths(scheme, vars=v)
    except Exception:
        paths = {}
    for key in ("SOABI", "EXT_SUFFIX", "Py_GIL_DISABLED", "Py_DEBUG", "MULTIARCH", "LDVERSION"):
        config_vars[key] = sysconfig.get_config_var(key)
    platform_tag = sysconfig.get_platform()
else:
    platform_tag = sys.platform
base_prefix = getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix))
base_executable = getattr(sys, "_base_executable", None) or sys.executable
if sys.prefix != base_prefix and base_executable == sys.executable:
    base_executable = os.path.realpath(sys.executable)
vi = sys.version_info
markers = {
    "implementation_name": impl_name,
    "implementation_version": impl_version,
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_python_implementation": platform.python_implementation(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
print(json.dumps({
    "probe": 1,
    "version_info": [vi[0], vi[1], vi[2], vi[3], vi[4]],
    "implementation": impl_name,
    "implementation_version": impl_version,
    "abiflags": getattr(sys, "abiflags", ""),
    "prefix": sys.prefix,
    "base_prefix": base_prefix,
    "executable": sys.executable,
    "base_executable": base_executable,
    "platform": platform_tag,
    "pointer_bits": 64 if sys.maxsize > 2 ** 32 else 32,
    "markers": markers,
    "paths": paths,
    "config_vars": config_vars,
}))
"""

_PROBE_TIMEOUT = 20.0


class ProbeFailed(Exception):
    """The candidate is not a working Python; ``str(exc)`` is the reason shown under -v."""


def run_probe(path: str) -> dict[str, Any]:
    """Run the probe script with ``path`` and return its JSON.

    ``-E -s`` keep the user's PYTHON* variables and user site out of the answer;
    both flags exist since 2.7, unlike ``-I``.
    """
    import subprocess  # only paid when a probe actually runs

    try:
        proc = subprocess.run(
            [path, "-E", "-s", "-c", PROBE_SCRIPT],
            capture_output=True, timeout=_PROBE_TIMEOUT, check=False, stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProbeFailed(f"probe timed out after {_PROBE_TIMEOUT:.0f}s") from exc
    except OSError as exc:
        raise ProbeFailed(f"cannot run: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise ProbeFailed(f"not a working Python (exit {proc.returncode}: {tail[0][:120]})")
    try:
        from ghostenv.store import jsonlite

        data = jsonlite.loads(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise ProbeFailed("not a Python: probe printed no JSON") from exc
    if not isinstance(data, dict) or data.get("probe") != 1:
        raise ProbeFailed("not a Python: unexpected probe output")
    return data


def _fingerprint(path: str) -> list[Any]:
    """What must be unchanged for a cached probe of ``path`` to stay valid."""
    real = os.path.realpath(path)
    st = os.stat(real)
    cfg = os.path.join(os.path.dirname(os.path.dirname(path)), "pyvenv.cfg")
    try:
        cst = os.stat(cfg)
        cfg_key: list[Any] = [cst.st_size, cst.st_mtime_ns]
    except OSError:
        cfg_key = []
    return [real, st.st_size, st.st_mtime_ns, cfg_key]


def cache_file(cache_dir: str | os.PathLike[str], path: str) -> Path:
    """The cache entry for candidate ``path``, named by the path as found.

    The escaped path itself is the name (readable, and no hashlib import on the
    warm path); only paths too long for a file name fall back to a digest.
    """
    from pathlib import Path

    return Path(_cache_file(cache_dir, path))


def _cache_file(cache_dir: str | os.PathLike[str], path: str) -> str:
    absolute = os.path.abspath(path)
    name = absolute.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C")
    if len(name) > 200:
        import hashlib

        name = hashlib.sha256(absolute.encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(os.fspath(cache_dir), "interpreters-v1", f"{name}.json")


def probe_cached(path: str, cache_dir: str | os.PathLike[str] | None
                 ) -> tuple[dict[str, Any], bool]:
    """Probe ``path``, answering from the cache when its fingerprint still matches.

    Returns ``(probe data, came_from_cache)``. Raises :class:`ProbeFailed`
    (failures are not cached: a broken interpreter may be repaired).
    """
    try:
        key = _fingerprint(path)
    except OSError as exc:
        raise ProbeFailed(f"cannot stat: {exc.strerror or exc}") from exc
    entry = _cache_file(cache_dir, path) if cache_dir is not None else None
    if entry is not None:
        found = _twin(entry, key)
        if found is not None:
            return found, True
        try:
            seen = os.stat(entry)
            from ghostenv.store import jsonlite  # (the twin spares the usual sync this module)

            with open(entry, encoding="utf-8") as handle:
                cached = jsonlite.loads(handle.read())
            if cached.get("key") == key and "ghostenv_tags" in cached["probe"]:
                _write_twin(entry, seen, key, cached["probe"])
                return cached["probe"], True
        except (OSError, ValueError, KeyError, AttributeError):
            pass
    data = run_probe(path)
    data["ghostenv_tags"] = _tags_of(path, data)
    if entry is not None:
        import json

        _write_atomic(entry, json.dumps({"key": key, "probe": data}))
    return data, False


#: A cache entry changed this recently (ns) is not copied to its twin: a rewrite in the
#: same file system clock tick could keep its stat.
_RACY_NS = 1_000_000_000


def _twin_path(entry: str) -> str:
    import marshal

    return f"{entry[:-len('.json')]}.m{marshal.version}"


def _twin(entry: str, key: list[Any]) -> dict[str, Any] | None:
    """The cache entry's probe from its marshal twin, valid while the JSON file is the one
    it was copied from (inode, size, mtime, ctime) and the key is the interpreter's now.

    The JSON stays the record (readable, what other versions read); the twin only
    spares the fresh-environment sync the JSON decoder (an extension module to
    load, then ~35 KB of tags to parse): ~0.5 ms.
    """
    import marshal

    from ghostenv._fast import read_file

    try:
        st = os.stat(entry)
        signature, twin_key, probe = marshal.loads(read_file(_twin_path(entry)))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if signature != (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) or twin_key != key:
        return None
    return probe if isinstance(probe, dict) else None


def _write_twin(entry: str, seen: os.stat_result, key: list[Any], probe: dict[str, Any]) -> None:
    """Copy a cache entry just read (its stat taken before reading) to its twin."""
    import marshal
    import time

    if time.time_ns() - seen.st_ctime_ns < _RACY_NS:
        return
    from ghostenv._fast import write_small

    try:
        write_small(_twin_path(entry), marshal.dumps(
            ((seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns), key, probe)))
    except (OSError, ValueError):
        return  # a twin we cannot write only costs the JSON read


def _tags_of(path: str, data: dict[str, Any]) -> list[str]:
    """The wheel tags of a freshly probed interpreter (kept in the cache entry)."""
    from ghostenv.discover.interpreter import Interpreter

    try:
        return [str(t) for t in Interpreter.from_probe(path, data).tags()]
    except (KeyError, TypeError, ValueError):
        return []


def _write_atomic(target: str, text: str) -> None:
    from pathlib import Path

    from ghostenv.fsutil import write_atomic

    try:
        write_atomic(Path(target), text.encode("utf-8"))
    except OSError:
        return  # a cache we cannot write only costs speed
