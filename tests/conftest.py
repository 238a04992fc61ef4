"""Shared pytest fixtures. Each capability adds its fixtures in its own module under tests/."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
pytest_plugins = ["tests.support.index_plugin"]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private ghostenv cache for one test (never the user's)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("GHOSTENV_CACHE_DIR", str(path))
    return path


def run_ghostenv(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                 check: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the real ``ghostenv`` CLI in a subprocess (``python -m ghostenv``)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "ghostenv", *args],
        check=False, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ghostenv {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


_PYPI: list[str] = []  # "" = reachable, else why not (checked once per session)


def _pypi_unreachable() -> str:
    """Why the real PyPI cannot be used from here, or "" when it can (one TCP+TLS try)."""
    if not _PYPI:
        if os.environ.get("GHOSTENV_TESTS_OFFLINE"):
            _PYPI.append("GHOSTENV_TESTS_OFFLINE is set")
        else:
            import socket
            import ssl

            try:
                with socket.create_connection(("pypi.org", 443), timeout=5) as raw:
                    context = ssl.create_default_context()
                    cafile = os.environ.get("SSL_CERT_FILE")
                    if cafile:
                        context.load_verify_locations(cafile)
                    with context.wrap_socket(raw, server_hostname="pypi.org"):
                        pass
                _PYPI.append("")
            except OSError as exc:
                _PYPI.append(f"pypi.org unreachable: {exc}")
    return _PYPI[0]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``network`` skip, with the reason, when PyPI cannot be reached."""
    if item.get_closest_marker("network") is not None:
        reason = _pypi_unreachable()
        if reason:
            pytest.skip(reason)
