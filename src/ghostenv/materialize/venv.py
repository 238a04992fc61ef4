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
"""

from __future__ import annotations

import os
from pathlib import Path

from ghostenv import __version__
from ghostenv.errors import InstallError
from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from ghostenv.discover.interpreter import Interpreter

_ACTIVATE = {  # template name -> quoting style
    "activate": "sh",
    "activate.fish": "fish",
    "activate.csh": "csh",
    "Activate.ps1": "ps",
}


@record(kw_only=True)
class VenvLayout:
    """Where things are in a created environment (all absolute)."""

    root: Path
    python: Path
    scripts: Path
    purelib: Path
    platlib: Path
    include: Path
    cfg: Path
    interpreter: Interpreter


def _quote(value: str, style: str) -> str:
    """Quote ``value`` as a literal string for one shell."""
    if style == "ps":
        return "'" + value.replace("'", "''") + "'"
    if style == "fish":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "'\"'\"'") + "'"  # sh and csh


def _rel(interp: Interpreter, key: str, default: str) -> str:
    return interp.paths.get(key) or default


def layout_for(root: Path, interp: Interpreter) -> VenvLayout:
    """The layout a venv at ``root`` for ``interp`` has (nothing is written)."""
    root = Path(os.path.abspath(root))
    windows = interp.markers.get("os_name") == "nt"
    libdir = f"lib/{'pypy' if interp.implementation == 'pypy' else 'python'}{interp.python_version}"
    scripts = root / _rel(interp, "scripts", "Scripts" if windows else "bin")
    purelib = root / _rel(interp, "purelib", f"{libdir}/site-packages")
    return VenvLayout(
        root=root,
        python=scripts / ("python.exe" if windows else "python"),
        scripts=scripts,
        purelib=purelib,
        platlib=root / _rel(interp, "platlib", str(purelib.relative_to(root))),
        include=root / _rel(interp, "include", f"include/python{interp.python_version}"),
        cfg=root / "pyvenv.cfg",
        interpreter=interp,
    )


def _pyvenv_cfg(interp: Interpreter, base: Path, prompt: str | None, command: str,
                system_site_packages: bool) -> str:
    lines = [
        f"home = {base.parent}",
        f"implementation = {interp.markers.get('platform_python_implementation', 'CPython')}",
        f"version_info = {interp.version_str}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
        f"executable = {base}",
        f"command = {command}",
        f"ghostenv = {__version__}",
    ]
    if prompt:
        lines.append(f"prompt = {prompt}")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    """Write a small file atomically (temp name in the same directory, then rename)."""
    tmp = path.with_name(f".{path.name}.ghostenv-tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _symlink(target: str | Path, link: Path) -> None:
    """Point ``link`` at ``target``, replacing whatever is there."""
    try:
        os.symlink(target, link)
    except FileExistsError:
        tmp = link.with_name(f".{link.name}.ghostenv-tmp-{os.getpid()}")
        os.symlink(target, tmp)
        os.replace(tmp, link)


_TEMPLATES: dict[str, str] = {}


def _activate_templates() -> dict[str, str]:
    """The activate templates shipped beside this module (read once per process)."""
    if not _TEMPLATES:
        folder = Path(__file__).parent / "activate"
        for name in _ACTIVATE:
            _TEMPLATES[name] = (folder / name).read_text(encoding="utf-8")
    return _TEMPLATES


def create_venv(path: str | os.PathLike[str], interpreter: Interpreter, *, clear: bool = False,
                prompt: str | None = None, system_site_packages: bool = False,
                command: str | None = None) -> VenvLayout:
    """Create (or refresh) a virtual environment at ``path`` for ``interpreter``.

    An existing venv is refreshed in place (its site-packages kept) unless
    ``clear``; a non-empty directory that is not a venv is refused.

    >>> create_venv(".venv", find_interpreter("3.12", cache_dir)).python
    PosixPath('/abs/.venv/bin/python')
    """
    interp = interpreter
    layout = layout_for(Path(path), interp)
    root = layout.root
    if root.exists() and not root.is_dir():
        raise InstallError(f"{root} exists and is not a directory",
                           hint="choose another path for the environment")
    new = clear or not root.is_dir() or not layout.cfg.exists()
    if root.is_dir():
        if clear:
            import shutil

            shutil.rmtree(root)
        elif not layout.cfg.exists() and any(root.iterdir()):
            raise InstallError(f"{root} is not empty and is not a virtual environment",
                               hint="pass --clear to replace it, or choose another path")
    base = interp.base_executable
    if not base.is_absolute() or not base.exists():
        raise InstallError(f"base interpreter {base} for {interp.path} does not exist",
                           hint="pick another interpreter with --python")
    name = prompt or root.name
    if command is None:
        command = f"ghostenv venv {root} --python {interp.path}"

    layout.scripts.mkdir(parents=True, exist_ok=True)
    layout.purelib.mkdir(parents=True, exist_ok=True)
    if layout.platlib != layout.purelib:
        layout.platlib.mkdir(parents=True, exist_ok=True)
    windows = interp.markers.get("os_name") == "nt"
    # lib64 -> lib: what stdlib venv does on 64-bit posix except macOS.
    if (interp.pointer_bits == 64 and not windows and interp.markers.get("sys_platform") != "darwin"
            and not (root / "lib64").exists()):
        _symlink("lib", root / "lib64")

    _write(layout.cfg, _pyvenv_cfg(interp, base, prompt, command, system_site_packages))
    _write(root / ".gitignore", "# created by ghostenv automatically\n*\n")

    if windows:  # pragma: no cover - not exercised on the Linux CI
        import shutil

        shutil.copy2(base, layout.python)
    else:
        _symlink(base, layout.python)
        aliases = {"python3", f"python{interp.python_version}"}
        if interp.implementation == "pypy":
            aliases |= {"pypy", "pypy3", f"pypy{interp.python_version}"}
        for alias in sorted(aliases):
            _symlink("python", layout.scripts / alias)

    bin_name = layout.scripts.name
    for tname, text in _activate_templates().items():
        style = _ACTIVATE[tname]
        body = (text.replace("__GHOSTENV_VENV_DIR__", _quote(str(root), style))
                .replace("__GHOSTENV_PROMPT__", _quote(name, style))
                .replace("__GHOSTENV_BIN_NAME__", bin_name))
        _write(layout.scripts / tname, body)
    if new:
        from ghostenv import plugins

        plugins.environment_created(layout.root, layout.python)
    return layout
