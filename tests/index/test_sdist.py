"""An sdist's PKG-INFO is used only when Metadata-Version >= 2.2 and the fields are static."""

from __future__ import annotations

import io
import tarfile

import pytest

from ghostenv.errors import BuildError
from ghostenv.index.sdist import sdist_metadata


def _sdist(pkg_info: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = pkg_info.encode()
        info = tarfile.TarInfo("demo-1.0/PKG-INFO")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_static_pkg_info_is_used() -> None:
    text = "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nRequires-Dist: idna\n"
    assert sdist_metadata(_sdist(text), "demo-1.0.tar.gz") == text.encode()


@pytest.mark.parametrize("text", [
    "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
    "Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nDynamic: Requires-Dist\n",
])
def test_untrustworthy_pkg_info_needs_a_build(text: str) -> None:
    with pytest.raises(BuildError, match=r"demo-1\.0\.tar\.gz"):
        sdist_metadata(_sdist(text), "demo-1.0.tar.gz")
