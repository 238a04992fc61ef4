"""The CLI shell: version, help, usage errors, and the import budget of the fast path."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import run_ghostenv

HEAVY = ("httpx", "pluggy", "packaging", "h2", "filelock", "ghostenv.resolve", "asyncio")
#: --version must not even build the argparse tree.
NOT_ON_VERSION = ("argparse", "ghostenv.cli")


def test_version_prints_version() -> None:
    from ghostenv import __version__

    proc = run_ghostenv("--version", check=True)
    assert proc.stdout.strip() == f"ghostenv {__version__}"


def test_version_imports_nothing_heavy() -> None:
    code = (
        "import sys; from ghostenv.entry import main; main(['--version']);"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()[-1].split()
    loaded = [m for m in out if m.split(".")[0] in HEAVY or m.startswith(HEAVY + NOT_ON_VERSION)]
    assert loaded == []


def test_version_importtime_lists_no_heavy_module() -> None:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "ghostenv", "--version"],
                          capture_output=True, text=True, check=True)
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert not [m for m in imported if m.split(".")[0] in HEAVY]


def test_unknown_option_is_a_usage_error() -> None:
    proc = run_ghostenv("--definitely-not-an-option")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unrecognized arguments: --definitely-not-an-option")
    assert "hint:" in proc.stderr


def test_no_command_prints_help_and_exits_2() -> None:
    proc = run_ghostenv()
    assert proc.returncode == 2
    assert "usage: ghostenv" in proc.stdout


def test_color_policy(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import io

    from ghostenv.cli.output import color_enabled

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert color_enabled("auto", io.StringIO()) is False
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled("auto", io.StringIO()) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_enabled("auto", io.StringIO()) is False
    assert color_enabled("always", io.StringIO()) is True
    assert color_enabled("never", io.StringIO()) is False
