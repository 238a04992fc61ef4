"""wheel-meta cost: METADATA out of a very large wheel, locally and over HTTP.

Local: ghostenv's reader next to ``zipfile.ZipFile(path).read(name)`` on the
same file, in-process (imports warm, page cache warm), median of ``--runs``;
bytes read and read/seek calls are counted on both sides. Uses the PyTorch CPU
wheel when one lies on the machine, else generates a 200 MB wheel with 15,000
entries. Remote: a >100 MB torch wheel on the real PyPI (requests, bytes).

    python benchmarks/wheel_meta.py [--wheel PATH] [--runs 30] [--no-remote]
"""

from __future__ import annotations

import argparse
import asyncio
import glob
import io
import os
import re
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

from ghostenv.wheel import read_local_metadata
from ghostenv.wheel.metadata import parse_metadata

CANDIDATES = ["/opt/wheels/torch-*.whl", "/opt/pypi-more/files/torch-*.whl"]


class CountingFile(io.FileIO):
    """A file that counts the bytes ``zipfile`` reads and the seeks it makes."""

    bytes_read = 0
    reads = 0
    seeks = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        CountingFile.reads += 1
        CountingFile.bytes_read += len(data)
        return data

    def seek(self, pos: int, whence: int = 0, /) -> int:
        CountingFile.seeks += 1
        return super().seek(pos, whence)


def generated_wheel(directory: Path) -> Path:
    """200 MB, 15,000 entries, METADATA last (as wheel builders write it)."""
    path = directory / "bigwheel-1.0-py3-none-any.whl"
    chunk = os.urandom(200 * 1024 * 1024 // 15_000)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for i in range(14_998):
            zf.writestr(f"bigwheel/data/part{i:05}.bin", chunk)
        zf.writestr("bigwheel-1.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: bigwheel\nVersion: 1.0\n")
        zf.writestr("bigwheel-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return path


def timed(fn: object, runs: int) -> float:
    assert callable(fn)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def local(path: Path, runs: int) -> None:
    data, stats = read_local_metadata(path)
    parse_metadata(data)
    ours_ms = timed(lambda: read_local_metadata(path), runs)
    ours_parse_ms = timed(lambda: parse_metadata(read_local_metadata(path)[0]), runs)
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))

    def with_zipfile() -> bytes:
        with zipfile.ZipFile(CountingFile(path)) as zf:
            return zf.read(name)

    CountingFile.bytes_read = CountingFile.reads = CountingFile.seeks = 0
    assert with_zipfile() == data
    zf_bytes, zf_reads, zf_seeks = (CountingFile.bytes_read, CountingFile.reads,
                                    CountingFile.seeks)
    zf_ms = timed(with_zipfile, runs)
    size = path.stat().st_size
    print(f"local: {path.name} ({size / 1e6:.1f} MB), median of {runs} runs, warm cache")
    print(f"{'':<26}{'ms':>9}{'bytes read':>13}{'reads':>7}{'seeks':>7}")
    print(f"{'ghostenv (zip only)':<26}{ours_ms:>9.2f}{stats.bytes_read:>13}"
          f"{stats.reads:>7}{stats.reads:>7}")
    print(f"{'ghostenv (+ parse)':<26}{ours_parse_ms:>9.2f}{stats.bytes_read:>13}"
          f"{stats.reads:>7}{stats.reads:>7}")
    print(f"{'zipfile.ZipFile().read()':<26}{zf_ms:>9.2f}{zf_bytes:>13}{zf_reads:>7}{zf_seeks:>7}")
    print(f"ratio zipfile/ghostenv: time {zf_ms / ours_ms:.1f}x, "
          f"bytes {zf_bytes / stats.bytes_read:.2f}x; "
          f"ghostenv read {100 * stats.bytes_read / size:.3f}% of the file")


def remote() -> None:
    import httpx

    from ghostenv.wheel.remote import fetch_wheel_metadata

    page = httpx.get("https://pypi.org/simple/torch/", timeout=20, follow_redirects=True)
    links = re.findall(r'href="(https://[^"#]+/torch-[0-9.]+-cp311-cp311-manylinux'
                       r'[^"#]*x86_64\.whl)', page.text)
    url = links[-1]

    async def go() -> None:
        async with httpx.AsyncClient(http2=True, timeout=60) as client:
            start = time.perf_counter()
            data, stats = await fetch_wheel_metadata(client, url)
            ms = (time.perf_counter() - start) * 1000
        meta = parse_metadata(data)
        size = stats.file_size or 0
        print(f"remote: {url.rsplit('/', 1)[-1]} ({size / 1e6:.1f} MB) -> "
              f"{meta.name} {meta.version}")
        print(f"  requests {stats.requests}, bytes {stats.bytes} "
              f"({100 * stats.bytes / size:.3f}% of the file), {ms:.0f} ms")

    asyncio.run(go())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--no-remote", action="store_true")
    args = parser.parse_args()
    found = [Path(p) for pattern in CANDIDATES for p in sorted(glob.glob(pattern))]
    with tempfile.TemporaryDirectory() as tmp:
        paths = [args.wheel] if args.wheel else found[:1] or [generated_wheel(Path(tmp))]
        for path in paths:
            local(path, args.runs)
    if not args.no_remote:
        remote()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
