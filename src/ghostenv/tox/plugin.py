"""The tox 4 plugin: ``runner = ghostenv-venv`` and ``runner = ghostenv-lock``.

Both build on tox's own virtualenv runner, which keeps interpreter discovery,
configuration and caching exactly as tox users know them, and replace the
two parts that cost time: creating the environment (ghostenv's venv factory,
no seeding) and installing into it (``ghostenv install``, behind a stamp).

Registered through the ``tox`` entry-point group; a project can also load it
from its ``toxfile.py`` with ``from ghostenv.tox.plugin import tox_register_tox_env``.
"""

from __future__ import annotations

import glob
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tox.config.types import Command
from tox.execute.request import StdinSource
from tox.plugin import impl
from tox.tox_env.errors import Fail
from tox.tox_env.python.pip.pip_install import Pip
from tox.tox_env.python.virtual_env.runner import VirtualEnvRunner

from ghostenv.integrate.stamp import installed

if TYPE_CHECKING:
    from tox.config.main import Config
    from tox.tox_env.register import ToxEnvRegister

logger = logging.getLogger(__name__)

#: pip options that mean nothing to ghostenv install (it installs the resolved set exactly).
_DROPPED = frozenset({"--force-reinstall", "-I", "--ignore-installed"})


class GhostenvInstaller(Pip):
    """tox's pip installer, with ``ghostenv install`` in pip's place.

    tox keeps deciding *what* to install (deps, constraints, the package);
    each resulting call runs ``ghostenv install --venv ENV ...`` through the
    install step, which skips calls whose inputs and results are unchanged.
    """

    def default_install_command(self, conf: Config, env_name: str | None) -> Command:
        del conf, env_name
        return Command([sys.executable, "-m", "ghostenv", "install", "--venv",
                        str(self._env.env_dir), "{opts}", "{packages}"])

    def freeze_cmd(self) -> list[str]:
        return [sys.executable, "-m", "ghostenv", "--version"]  # unused: installed() reads dirs

    def installed(self) -> list[str]:
        """``name==version`` of every distribution, from dist-info names (no subprocess)."""
        return sorted(f"{n}=={v}" for n, v in installed(Path(self._env.env_dir)).items())

    def _execute_installer(self, deps: Sequence[str], of_type: str) -> None:
        from ghostenv.errors import GhostenvError
        from ghostenv.integrate.steps import install_step

        args = [str(d) for d in deps if str(d) not in _DROPPED]
        command = self.build_install_cmd(args)
        prefix = command[: command.index("--venv") + 2] if "--venv" in command else []
        extra = command[len(prefix):] if prefix else command

        def run(cmd: list[str]) -> object:
            del cmd  # the configured install_command is authoritative
            outcome = self._env.execute(command, stdin=StdinSource.OFF,
                                        run_id=f"install_{of_type}")
            outcome.assert_success()
            return outcome

        try:
            result = install_step(Path(self._env.env_dir), extra, key=f"install:tox:{of_type}",
                                  cwd=Path(self._env.core["toxinidir"]), run=run)
        except GhostenvError as exc:
            raise Fail(f"ghostenv: {exc.message}") from exc
        if result.skipped:
            logger.warning("ghostenv: %s unchanged, install skipped (%.1f ms)", of_type, result.ms)


class GhostenvVenvRunner(VirtualEnvRunner):
    """``runner = ghostenv-venv``: ghostenv's venv factory and installer under tox's runner."""

    @staticmethod
    def id() -> str:
        return "ghostenv-venv"

    @property
    def installer(self) -> Pip:
        if self._installer is None:
            self._installer = GhostenvInstaller(self)
        return self._installer

    def create_python_env(self) -> None:
        from ghostenv.discover import find_interpreter
        from ghostenv.errors import GhostenvError
        from ghostenv.integrate.stamp import EnvState
        from ghostenv.materialize.venv import create_venv
        from ghostenv.paths import user_cache_dir

        started = time.perf_counter()
        executable = self.base_python.extra.get("executable") or sys.executable
        try:
            interp = find_interpreter(str(executable), user_cache_dir())
            create_venv(Path(self.env_dir), interp, clear=True, prompt=self.name,
                        command=f"ghostenv (tox plugin) --python {interp.path}")
        except GhostenvError as exc:
            raise Fail(f"ghostenv: {exc.message}") from exc
        ms = (time.perf_counter() - started) * 1000
        EnvState(Path(self.env_dir)).log("create", reused=False, ms=round(ms, 3),
                                         python=interp.version_str)

    def _default_pass_env(self) -> list[str]:
        return [*super()._default_pass_env(), "GHOSTENV_*"]

    @property
    def _allow_externals(self) -> list[str]:
        # The installer runs ghostenv with tox's own interpreter, outside the environment.
        return [*super()._allow_externals, glob.escape(sys.executable)]


class GhostenvLockRunner(GhostenvVenvRunner):
    """``runner = ghostenv-lock``: the project's uv.lock, for ``dependency_groups`` and ``extras``.

    The locked packages replace tox's resolution of groups and extras. tox's
    own packaging is off (``package = skip``); ``ghostenv_install_project =
    true`` installs the project editable with the locked packages, as ``uv
    sync`` does (built by ghostenv, no packaging environment).
    """

    @staticmethod
    def id() -> str:
        return "ghostenv-lock"

    def register_config(self) -> None:
        super().register_config()
        self.conf.add_config(
            keys=["ghostenv_install_project"],
            of_type=bool,
            default=False,
            desc="install the project itself (editable) with the locked packages",
        )

    @property
    def default_pkg_type(self) -> str:
        return "skip"

    def _install_dependency_groups(self) -> None:
        from ghostenv.errors import GhostenvError
        from ghostenv.integrate.steps import sync_step

        groups = sorted(self.conf.get("dependency_groups", set[str]))
        extras = sorted(self.conf.get("extras", set[str]))
        root = Path(self.core["toxinidir"])
        try:
            result = sync_step(Path(self.env_dir), root, groups=groups, extras=extras,
                               install_project=self.conf["ghostenv_install_project"],
                               progress=logger.info)
        except GhostenvError as exc:
            raise Fail(f"ghostenv: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")) from exc
        if result.skipped:
            logger.warning("ghostenv: uv.lock unchanged, sync skipped (%.1f ms)", result.ms)
        else:
            changes = [f"+{n}" for n in result.changed] + [f"-{n}" for n in result.removed]
            logger.warning("ghostenv: synced uv.lock in %.0f ms: %s", result.ms,
                           " ".join(changes) or "nothing to change")


@impl
def tox_register_tox_env(register: ToxEnvRegister) -> None:
    """Make ``ghostenv-venv`` and ``ghostenv-lock`` available as ``runner`` values."""
    register.add_run_env(GhostenvVenvRunner)
    register.add_run_env(GhostenvLockRunner)


__all__: list[Any] = ["GhostenvInstaller", "GhostenvLockRunner", "GhostenvVenvRunner",
                      "tox_register_tox_env"]
