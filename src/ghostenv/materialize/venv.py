"""The venv factory: writes a virtual environment's layout directly, no subprocess.

What makes a directory a venv is small and specified (PEP 405 and the stdlib
``site``/``getpath`` rules): a ``pyvenv.cfg`` whose ``home`` names the base
interpreter's directory, next to (or one level above) an executable that
resolves to that interpreter. ``sys.prefix`` then becomes the directory
holding ``pyvenv.cfg`` and ``site`` adds ``lib/pythonX.Y/site-packages``.
Everything else (``python3`` aliases, ``lib64``, activate scripts,
``.gitignore``) is convenience. Writing these few files ourselves takes a
couple of milliseconds; ``python -m venv`` starts a second interpreter.

Layout paths come from the probed interpreter's sysconfig ``venv`` scheme (or
``posix_prefix`` before 3.11), so PyPy's ``lib/pypy3.X`` is right too.

The writing itself (:func:`write_venv`) works on strings and a
:class:`VenvSpec` -- the few facts about the interpreter a venv needs -- and
imports neither ``pathlib`` nor the interpreter finder, so ``ghostenv venv``
answers from a remembered probe with the standard library's cheapest modules.
:func:`create_venv` is the same thing for callers holding an
:class:`~ghostenv.discover.interpreter.Interpreter`, returning a
:class:`VenvLayout` of paths.
"""

from __future__ import annotations

import os

from ghostenv import __version__
from ghostenv.errors import InstallError
from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from ghostenv.discover.interpreter import Interpreter

_ACTIVATE = {  # template name -> quoting style
    "activate": "sh",
    "activate.fish": "fish",
    "activate.csh": "csh",
    "Activate.ps1": "ps",
}
#: The probe's sysconfig paths start with this placeholder (see ghostenv.discover.probe).
_PREFIX_TOKEN = "/__ghostenv_prefix__"


@record(kw_only=True)
class VenvLayout:
    """Where things are in a created environment (all absolute).

    Kept as strings (``root_str``, ...), offered as ``Path`` properties: the
    install path never imports ``pathlib``.
    """

    root_str: str
    python_str: str
    scripts_str: str
    purelib_str: str
    platlib_str: str
    include_str: str
    interpreter: Interpreter

    @property
    def root(self) -> Path:
        """The environment's directory."""
        return _path(self.root_str)

    @property
    def python(self) -> Path:
        """Its ``bin/python``."""
        return _path(self.python_str)

    @property
    def scripts(self) -> Path:
        """Its scripts directory (``bin``)."""
        return _path(self.scripts_str)

    @property
    def purelib(self) -> Path:
        """Its ``site-packages`` for pure modules."""
        return _path(self.purelib_str)

    @property
    def platlib(self) -> Path:
        """Its ``site-packages`` for extension modules (usually ``purelib``)."""
        return _path(self.platlib_str)

    @property
    def include(self) -> Path:
        """Its headers directory."""
        return _path(self.include_str)

    @property
    def cfg(self) -> Path:
        """Its ``pyvenv.cfg``."""
        return _path(os.path.join(self.root_str, "pyvenv.cfg"))


def _path(value: str) -> Path:
    from pathlib import Path

    return Path(value)


@record(kw_only=True)
class VenvSpec:
    """What a venv needs to know about its interpreter, as plain strings.

    ``scripts``, ``purelib``, ``platlib`` and ``include`` are relative to the
    environment's root.
    """

    base: str
    python_version: str
    version_str: str
    implementation: str
    implementation_name: str
    windows: bool
    lib64: bool
    scripts: str
    purelib: str
    platlib: str
    include: str

    @classmethod
    def make(cls, *, base: str, version: tuple[int, int, int], version_str: str,
             implementation: str, markers: dict[str, str], pointer_bits: int,
             paths: dict[str, str]) -> VenvSpec:
        """Fill the defaults the probe's sysconfig paths may lack."""
        windows = markers.get("os_name") == "nt"
        xy = f"{version[0]}.{version[1]}"
        libdir = f"lib/{'pypy' if implementation == 'pypy' else 'python'}{xy}"
        purelib = paths.get("purelib") or f"{libdir}/site-packages"
        return cls(
            base=base, python_version=xy, version_str=version_str,
            implementation=implementation,
            implementation_name=markers.get("platform_python_implementation", "CPython"),
            windows=windows,
            # lib64 -> lib: what stdlib venv does on 64-bit posix except macOS
            lib64=pointer_bits == 64 and not windows and markers.get("sys_platform") != "darwin",
            scripts=paths.get("scripts") or ("Scripts" if windows else "bin"),
            purelib=purelib, platlib=paths.get("platlib") or purelib,
            include=paths.get("include") or f"include/python{xy}",
        )

    @classmethod
    def of(cls, interp: Interpreter) -> VenvSpec:
        """The spec of a found interpreter."""
        return cls.make(base=interp.base_executable_str, version=interp.version,
                        version_str=interp.version_str, implementation=interp.implementation,
                        markers=interp.markers, pointer_bits=interp.pointer_bits,
                        paths=interp.paths)

    @classmethod
    def from_probe(cls, data: dict[str, Any]) -> VenvSpec:
        """The spec straight from the probe's data (what the interpreter finder remembers)."""
        vi = data["version_info"]
        version = (int(vi[0]), int(vi[1]), int(vi[2]))
        tag = {"alpha": "a", "beta": "b", "candidate": "rc"}.get(str(vi[3]))
        version_str = ".".join(map(str, version)) + (f"{tag}{int(vi[4])}" if tag else "")
        rel = {key: value[len(_PREFIX_TOKEN):].lstrip("/\\") or "."
               for key, value in (data.get("paths") or {}).items()
               if isinstance(value, str) and value.startswith(_PREFIX_TOKEN)}
        return cls.make(base=str(data["base_executable"]), version=version,
                        version_str=version_str, implementation=str(data["implementation"]),
                        markers=dict(data.get("markers") or {}),
                        pointer_bits=int(data.get("pointer_bits", 64)), paths=rel)


def _quote(value: str, style: str) -> str:
    """Quote ``value`` as a literal string for one shell."""
    if style == "ps":
        return "'" + value.replace("'", "''") + "'"
    if style == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "'\"'\"'") + "'"  # sh and csh


def layout_for(root: str | os.PathLike[str], interp: Interpreter) -> VenvLayout:
    """The layout a venv at ``root`` for ``interp`` has (nothing is written)."""
    spec = VenvSpec.of(interp)
    top = os.path.abspath(root)
    scripts = _join(top, spec.scripts)
    return VenvLayout(
        root_str=top,
        python_str=os.path.join(scripts, "python.exe" if spec.windows else "python"),
        scripts_str=scripts,
        purelib_str=_join(top, spec.purelib),
        platlib_str=_join(top, spec.platlib),
        include_str=_join(top, spec.include),
        interpreter=interp,
    )


def _join(root: str, relative: str) -> str:
    """``root / relative`` as pathlib spells it (a ``.`` part is dropped)."""
    return os.path.normpath(os.path.join(root, relative)) if relative else root


def _pyvenv_cfg(spec: VenvSpec, prompt: str | None, command: str,
                system_site_packages: bool) -> str:
    lines = [
        f"home = {os.path.dirname(spec.base)}",
        f"implementation = {spec.implementation_name}",
        f"version_info = {spec.version_str}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"executable = {spec.base}",
        f"command = {command}",
        f"ghostenv = {__version__}",
    ]
    if prompt:
        lines.append(f"prompt = {prompt}")
    return "\n".join(lines) + "\n"


def _write(path: str, text: str, mode: int = 0o644, *, fresh: bool = False) -> None:
    """Write a small file atomically (temp name in the same directory, then rename).

    ``fresh``: the directory was made by this call, so nothing is there to replace:
    the file is created in place (one write; no temp name, no rename). A crash
    there leaves no gate record, and the next sync rewrites the whole venv.
    """
    if fresh:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            pass
        else:
            try:
                os.write(fd, text.encode("utf-8"))
            finally:
                os.close(fd)
            return
    head, name = os.path.split(path)
    tmp = os.path.join(head, f".{name}.ghostenv-tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _symlink(target: str, link: str) -> None:
    """Point ``link`` at ``target``, replacing whatever is there."""
    try:
        os.symlink(target, link)
    except FileExistsError:
        head, name = os.path.split(link)
        tmp = os.path.join(head, f".{name}.ghostenv-tmp-{os.getpid()}")
        os.symlink(target, tmp)
        os.replace(tmp, link)


_TEMPLATES: dict[str, str] = {}


def _activate_templates() -> dict[str, str]:
    """The activate templates shipped beside this module (read once per process)."""
    if not _TEMPLATES:
        folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "activate")
        for name in _ACTIVATE:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                _TEMPLATES[name] = handle.read()
    return _TEMPLATES


def _kept_settings(cfg: str) -> dict[str, str]:
    """The settings of an existing pyvenv.cfg that a refresh keeps (``key = value`` lines)."""
    try:
        with open(cfg, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return {}
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() in ("include-system-site-packages", "prompt", "command"):
            out[key.strip()] = value.strip()
    return out


def write_venv(path: str | os.PathLike[str], spec: VenvSpec, *, command: str,
               clear: bool = False, prompt: str | None = None,
               system_site_packages: bool = False,
               keep_existing: bool = True) -> tuple[str, bool]:
    """Create (or refresh) a virtual environment at ``path``; ``(absolute root, was new)``.

    An existing venv is refreshed in place (its site-packages kept) unless
    ``clear``; a non-empty directory that is not a venv is refused. Plugins are
    not told (:func:`create_venv` does that).

    A refresh keeps what the existing pyvenv.cfg says about
    ``include-system-site-packages``, ``prompt`` and ``command`` (as uv leaves a
    compatible venv's pyvenv.cfg alone: a ``--system-site-packages`` venv stays
    one through ``sync``), unless ``system_site_packages`` is asked for or
    ``keep_existing`` is false (``ghostenv venv``: what the user asks wins, as
    with ``python -m venv``): then the caller's settings are written.
    """
    root = os.path.abspath(path)
    cfg = os.path.join(root, "pyvenv.cfg")
    is_dir = os.path.isdir(root)
    if not is_dir and os.path.lexists(root):
        raise InstallError(f"{root} exists and is not a directory",
                           hint="choose another path for the environment")
    new = clear or not is_dir or not os.path.exists(cfg)
    fresh = clear or not is_dir  # the directory is made below: no file to replace in it
    if is_dir:
        if clear:
            import shutil

            shutil.rmtree(root)
        elif not os.path.exists(cfg) and os.listdir(root):
            raise InstallError(f"{root} is not empty and is not a virtual environment",
                               hint="pass --clear to replace it, or choose another path")
    base = spec.base
    if not os.path.isabs(base) or not os.path.exists(base):
        raise InstallError(f"base interpreter {base} does not exist",
                           hint="pick another interpreter with --python")
    if not new and keep_existing and not system_site_packages:
        kept = _kept_settings(cfg)
        if kept:
            system_site_packages = kept.get("include-system-site-packages",
                                            "").lower() == "true"
            prompt = kept.get("prompt") or None
            command = kept.get("command", command)
    scripts = os.path.join(root, spec.scripts)
    os.makedirs(scripts, exist_ok=True)
    os.makedirs(os.path.join(root, spec.purelib), exist_ok=True)
    if spec.platlib != spec.purelib:
        os.makedirs(os.path.join(root, spec.platlib), exist_ok=True)
    lib64 = os.path.join(root, "lib64")
    if spec.lib64 and not os.path.lexists(lib64):
        _symlink("lib", lib64)

    _write(cfg, _pyvenv_cfg(spec, prompt, command, system_site_packages), fresh=fresh)
    _write(os.path.join(root, ".gitignore"), "# created by ghostenv automatically\n*\n",
           fresh=fresh)

    if spec.windows:  # pragma: no cover - not exercised on the Linux CI
        import shutil

        shutil.copy2(base, os.path.join(scripts, "python.exe"))
    else:
        _symlink(base, os.path.join(scripts, "python"))
        aliases = {"python3", f"python{spec.python_version}"}
        if spec.implementation == "pypy":
            aliases |= {"pypy", "pypy3", f"pypy{spec.python_version}"}
        for alias in sorted(aliases):
            _symlink("python", os.path.join(scripts, alias))

    bin_name = os.path.basename(scripts)
    name = prompt or os.path.basename(root)
    for tname, text in _activate_templates().items():
        style = _ACTIVATE[tname]
        body = (text.replace("__GHOSTENV_VENV_DIR__", _quote(root, style))
                .replace("__GHOSTENV_PROMPT__", _quote(name, style))
                .replace("__GHOSTENV_BIN_NAME__", bin_name))
        _write(os.path.join(scripts, tname), body, fresh=fresh)
    return root, new


def create_venv(path: str | os.PathLike[str], interpreter: Interpreter, *, clear: bool = False,
                prompt: str | None = None, system_site_packages: bool = False,
                command: str | None = None, keep_existing: bool = True) -> VenvLayout:
    """Create (or refresh) a virtual environment at ``path`` for ``interpreter``.

    An existing venv is refreshed in place (its site-packages kept) unless
    ``clear``; a non-empty directory that is not a venv is refused. A refresh
    keeps the existing settings unless ``keep_existing`` is false (see
    :func:`write_venv`).

    >>> create_venv(".venv", find_interpreter("3.12", cache_dir)).python
    PosixPath('/abs/.venv/bin/python')
    """
    interp = interpreter
    base = interp.base_executable_str
    if not os.path.isabs(base) or not os.path.exists(base):
        raise InstallError(f"base interpreter {base} for {interp.path_str} does not exist",
                           hint="pick another interpreter with --python")
    if command is None:
        command = f"ghostenv venv {os.path.abspath(path)} --python {interp.path_str}"
    _root, new = write_venv(path, VenvSpec.of(interp), command=command, clear=clear,
                            prompt=prompt, system_site_packages=system_site_packages,
                            keep_existing=keep_existing)
    layout = layout_for(path, interp)
    if new:
        from ghostenv import plugins

        if plugins.plugins_declared():  # (Paths only when someone listens)
            plugins.environment_created(layout.root, layout.python)
    return layout
