"""The sync progress display: redrawn in place on a terminal, absent in a pipe."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from ghostenv.cli.progress import Progress
from tests.workflow.test_sync import _sync, project  # noqa: F401 - fixture


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_counts_files_and_bytes() -> None:
    out = _Tty()
    progress = Progress(out)
    progress.phase("Preparing")
    progress.expect({"a.whl": 1024, "b.whl": 3 * 1024 * 1024})
    progress("Downloaded a.whl")
    progress.last = 0.0  # skip the redraw throttle
    progress("Downloaded b.whl")
    progress.close()
    frames = out.getvalue().split("\r\x1b[2K")
    assert "Preparing..." in frames
    assert "Downloading 0/2 files, 0 B/3.0 MiB" in frames
    assert "Installing..." in frames
    assert frames[-1] == ""  # the line is erased at the end


def test_no_display_when_not_a_terminal() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.phase("Resolving")
    progress.expect({"a.whl": 10})
    progress("Downloaded a.whl")
    progress.close()
    assert out.getvalue() == ""


def test_sync_on_a_terminal_and_in_a_pipe(project: Path, tmp_path: Path) -> None:  # noqa: F811
    piped = _sync(project, tmp_path / "cache")
    assert piped.returncode == 0, piped.stderr
    assert re.fullmatch(r"Installed 4 packages in \d+ms \(downloaded 4 in \d+ms\)\n",
                        piped.stderr), piped.stderr
    (project / ".venv").rename(project / "old-venv")
    primary, secondary = pty.openpty()
    env = {**os.environ, "GHOSTENV_CACHE_DIR": str(tmp_path / "cache2")}
    proc = subprocess.Popen([sys.executable, "-m", "ghostenv", "sync", "--frozen", "--python",
                             sys.executable], cwd=project, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    os.close(primary)
    text = b"".join(chunks).decode()
    assert "\r\x1b[2KDownloading 0/4 files" in text, text
    assert text.endswith("Installed 4 packages") or "Installed 4 packages" in text.splitlines()[-1]
