"""The nox environment class: ghostenv's venv factory instead of ``virtualenv``/``venv``.

It subclasses nox's own ``VirtualEnv`` so that every ``isinstance`` check in
nox (``session.install`` accepts only its known environment types) passes,
and overrides only creation and reuse:

- creating writes the venv directly (:func:`ghostenv.materialize.venv.create_venv`,
  a few milliseconds, no subprocess, no pip or setuptools seeded);
- with ``reuse_existing`` an environment ghostenv made for the same Python
  minor version is kept as it is; the install steps decide themselves
  whether they have anything to do.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import nox.virtualenv
from nox.virtualenv import InterpreterNotFound, VirtualEnv

from ghostenv.integrate.stamp import EnvState

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter

BACKEND = "ghostenv"
logger = logging.getLogger("nox")
_TAKES_DOWNLOAD = "download_python" in inspect.signature(VirtualEnv.__init__).parameters


class GhostenvEnv(VirtualEnv):
    """A nox session environment created and filled by ghostenv."""

    def __init__(
        self,
        location: str,
        interpreter: str | None = None,
        *,
        download_python: Literal["auto", "never", "always"] = "auto",
        reuse_existing: bool = False,
        venv_backend: str = BACKEND,
        venv_params: Sequence[str] = (),
    ) -> None:
        # nox's constructor accepts only its own backend names; pass one, then say ours.
        # download_python exists since nox 2025; older versions neither pass nor take it.
        extra: dict[str, Any] = {"download_python": download_python} if _TAKES_DOWNLOAD else {}
        super().__init__(location, interpreter, reuse_existing=reuse_existing,
                         venv_backend="venv", venv_params=venv_params, **extra)
        self._venv_backend = venv_backend
        self.install_calls = 0
        """How many ``session.install`` calls this run made (names their stamps)."""
        self.interpreter_found: Interpreter | None = None
        """The interpreter :meth:`create` made the venv for (None when it reused one)."""
        self.pristine = False
        """Created by this run and nothing installed since: ``ghostenv.nox.sync`` may then
        rebuild it by the fast path (:mod:`ghostenv.nox.fresh`) if :meth:`untouched`."""
        self._made: tuple[tuple[str, int, int], ...] = ()

    @property
    def allowed_globals(self) -> tuple[str, ...]:
        return ()

    @property
    def venv_backend(self) -> str:
        return self._venv_backend

    def _pyvenv_cfg(self) -> dict[str, str] | None:
        try:
            text = Path(self.location, "pyvenv.cfg").read_text("utf-8")
        except OSError:
            return None
        return {key.strip(): value.strip() for key, sep, value in
                (line.partition("=") for line in text.splitlines()) if sep}

    def _check_reused_environment_type(self) -> bool:
        config = self._pyvenv_cfg()
        return config is not None and BACKEND in config

    def _links_intact(self) -> bool:
        """``bin/python`` and ``bin/python3`` still resolve (a removed base Python breaks them)."""
        for name in ("python", "python3"):
            path = os.path.join(self.bin, name)
            if os.path.lexists(path) and not os.path.exists(path):
                return False
        return True

    def _same_python(self) -> bool:
        """Does the existing environment's Python match the request (by minor version)?

        Only what pyvenv.cfg says is compared: probing an interpreter would cost
        a process start on every ``-R`` run.
        """
        config = self._pyvenv_cfg() or {}
        have = ".".join(config.get("version_info", "").split(".")[:2])
        want = self.interpreter
        if want is None:
            return have == f"{sys.version_info[0]}.{sys.version_info[1]}"
        text = want.removeprefix("python").removeprefix("cpython")
        parts = text.split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            return have == f"{parts[0]}.{parts[1]}"
        return bool(have)  # a path or an implementation name: trust the reuse request

    def _tree(self) -> tuple[tuple[str, int, int], ...]:
        """(path, size, mtime_ns) of everything in the environment but its ``.ghostenv`` state
        (a new venv: some twenty entries, ~0.2 ms)."""
        from ghostenv.integrate.stamp import STATE_DIR

        found = []
        for root, dirs, files in os.walk(self.location):
            if root == self.location and STATE_DIR in dirs:
                dirs.remove(STATE_DIR)
            for name in dirs + files:
                path = os.path.join(root, name)
                st = os.lstat(path)
                found.append((path, st.st_size, st.st_mtime_ns))
        return tuple(sorted(found))

    def untouched(self) -> bool:
        """Is the environment still exactly what :meth:`create` wrote in this run?

        A session may have run something into it before its sync (``ensurepip``, a
        ``run_install`` of its own): then it is not rebuilt from scratch.
        """
        return self.pristine and bool(self._made) and self._tree() == self._made

    def _reusable(self) -> bool:
        return (
            self.reuse_existing
            and Path(self.location, "pyvenv.cfg").is_file()
            and self._check_reused_environment_type()
            and self._links_intact()
            and self._same_python()
        )

    @property
    def prompt(self) -> str:
        """The venv's prompt: the session environment's directory name."""
        return Path(self.location).name

    @staticmethod
    def command(interp: Interpreter) -> str:
        """The ``command`` line of the venv's pyvenv.cfg."""
        return f"ghostenv (nox backend) --python {interp.path}"

    def create(self) -> bool:
        """Create the environment, or reuse it; True when it is new."""
        started = time.perf_counter()
        nox_dir = Path(self.location).parent
        with contextlib.suppress(AttributeError, OSError):
            nox.virtualenv._ensure_gitignore(nox_dir)
            nox.virtualenv._ensure_cachedir_tag(nox_dir)
        if self._reusable():
            logger.debug(f"Reusing existing virtual environment at {self.location_name}.")
            self._reused = True
            ms = (time.perf_counter() - started) * 1000
            EnvState(Path(self.location)).log("create", reused=True, ms=round(ms, 3))
            return False

        from ghostenv.discover import find_interpreter
        from ghostenv.errors import GhostenvError
        from ghostenv.materialize.venv import create_venv
        from ghostenv.paths import user_cache_dir

        try:
            interp = find_interpreter(self.interpreter or sys.executable, user_cache_dir())
        except GhostenvError as exc:
            logger.debug(f"ghostenv: {exc.message}")
            raise InterpreterNotFound(self.interpreter or sys.executable) from exc
        self._resolved = str(interp.path)
        logger.info(f"Creating virtual environment (ghostenv) using python{interp.python_version}"
                    f" in {self.location_name}")
        unknown = [p for p in self.venv_params if p != "--system-site-packages"]
        if unknown:
            logger.warning(f"ghostenv: venv_params {unknown} are not supported and ignored")
        system = "--system-site-packages" in self.venv_params
        create_venv(self.location, interp, clear=True, prompt=self.prompt,
                    system_site_packages=system, command=self.command(interp))
        self.interpreter_found = interp
        self.pristine = not system
        self._made = self._tree()
        ms = (time.perf_counter() - started) * 1000
        EnvState(Path(self.location)).log("create", reused=False, ms=round(ms, 3),
                                          python=interp.version_str)
        return True


def _install(self: Any, *args: str, **kwargs: Any) -> None:
    """``Session.install`` for ghostenv envs: ``ghostenv install``, skipped when unchanged."""
    venv = self._runner.venv
    if not isinstance(venv, GhostenvEnv):
        _ORIGINAL_INSTALL(self, *args, **kwargs)
        return
    if not args:
        msg = "At least one argument required to install()."
        raise ValueError(msg)
    if self._runner.global_config.no_install and venv._reused:
        EnvState(Path(venv.location)).log("install", skipped=True, ms=0.0, reason="no-install")
        return
    from ghostenv.errors import GhostenvError
    from ghostenv.integrate.steps import install_step

    silent = kwargs.get("silent")
    if silent is None:
        silent = not self._runner.global_config.verbose
    key = f"install#{venv.install_calls}"
    venv.install_calls += 1
    venv.pristine = False

    def run(command: list[str]) -> object:
        return self.run_install(*command, env=kwargs.get("env"),
                                include_outer_env=kwargs.get("include_outer_env", True),
                                silent=silent, success_codes=kwargs.get("success_codes"),
                                external=True)

    try:
        result = install_step(Path(venv.location), list(args), key=key, cwd=Path.cwd(), run=run)
    except GhostenvError as exc:
        self.error(f"ghostenv: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
    if result.skipped:
        logger.info(f"ghostenv: {' '.join(args)} unchanged, install skipped "
                    f"({result.ms:.1f} ms)")


def _get_virtualenv(*backends: str, **kwargs: Any) -> Any:
    """nox's ``get_virtualenv``, minus its uv detection for a ghostenv-only session.

    nox reads ``OPTIONAL_VENVS`` before it picks a backend, and that runs ``uv
    --version`` (~20 ms, once per nox process) whatever the backend. A session whose
    one backend is ghostenv uses no uv, so it is built directly, as nox would build
    it; anything else (fallback lists, ``python=False``) goes to nox unchanged.
    """
    if backends == (BACKEND,) and kwargs.get("interpreter") is not False and "envdir" in kwargs:
        envdir = kwargs.pop("envdir")
        return nox.virtualenv.ALL_VENVS[BACKEND](envdir, **kwargs)
    return _ORIGINAL_GET_VIRTUALENV(*backends, **kwargs)


_ORIGINAL_INSTALL: Any = None
_ORIGINAL_GET_VIRTUALENV: Any = None


def register() -> None:
    """Add the ``ghostenv`` backend to nox and route its installs (idempotent)."""
    global _ORIGINAL_INSTALL, _ORIGINAL_GET_VIRTUALENV  # noqa: PLW0603 - patched once
    import nox.sessions
    from nox.sessions import Session

    nox.virtualenv.ALL_VENVS[BACKEND] = GhostenvEnv
    if _ORIGINAL_INSTALL is None:
        _ORIGINAL_INSTALL = Session.install
        Session.install = _install  # type: ignore[method-assign]
    if _ORIGINAL_GET_VIRTUALENV is None and hasattr(nox.sessions, "get_virtualenv"):
        _ORIGINAL_GET_VIRTUALENV = nox.sessions.get_virtualenv
        nox.sessions.get_virtualenv = _get_virtualenv
