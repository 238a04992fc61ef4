"""The README opens with the two set-up commands; these tests keep them true.

The first command's pip step is what CI itself does; what can silently rot is
the ghostenv part (``ghostenv run python hello.py`` in examples/hello), so it
runs here against the real PyPI (the example's uv.lock points there).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _setup_lines() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```sh\n(.*?)```", text, re.S)
    assert match is not None, "README.md has no ```sh block"
    assert text.index(match.group(0)) < text.index("\n## "), "the set-up block must come first"
    return [line for line in match.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    lines = _setup_lines()
    assert len(lines) == 2, lines
    assert "ghostenv" in lines[0]
    assert "examples/hello" in lines[0]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert lines[1] in ci, "the README's test command must be the one .ci/run runs"


@pytest.mark.network
def test_readme_first_command_runs_the_example(tmp_path: Path) -> None:
    line = _setup_lines()[0]
    match = re.search(r"cd examples/hello && \S*ghostenv (.+?)\)", line)
    assert match is not None, line
    project = tmp_path / "hello"
    shutil.copytree(REPO / "examples" / "hello", project,
                    ignore=shutil.ignore_patterns(".venv"))
    args = match.group(1).split()
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "GHOSTENV_PROJECT_ENVIRONMENT", "UV_PROJECT_ENVIRONMENT",
                        "GHOSTENV_PYTHON", "UV_PYTHON")}
    env["GHOSTENV_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-m", "ghostenv", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0 and re.search(r"HTTP|connect|network", proc.stderr, re.I):
        pytest.skip(f"PyPI unreachable: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("hello from ghostenv.example with attrs"), proc.stdout
    again = subprocess.run([sys.executable, "-m", "ghostenv", *args], cwd=project, env=env,
                           capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0, again.stderr
    assert again.stdout == proc.stdout
