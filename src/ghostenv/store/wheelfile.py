"""Reading a wheel archive into the store: validate every entry, then write it as an object.

Validation happens here, once, rather than at each install: a path that would
escape the install target, a symlink entry, or a member whose bytes disagree
with the RECORD line for it makes the wheel unusable (:class:`WheelError`).
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import io
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator

from ghostenv.errors import WheelError
from ghostenv.store.manifest import ManifestFile, WheelManifest

PutStream = Callable[..., str]
CHUNK = 1 << 20


def safe_member_path(name: str, wheel: str) -> str:
    """The member path if it stays inside the target directory, else WheelError."""
    path = name.replace("\\", "/")
    parts = path.split("/")
    if path.startswith("/") or (len(parts[0]) == 2 and parts[0][1] == ":") or ".." in parts:
        raise WheelError(f"{wheel}: entry {name!r} would be written outside the environment",
                         hint="the wheel is malformed or malicious; do not install it")
    return path


def _find_dist_info(names: Iterable[str], wheel: str) -> str:
    tops = {n.split("/", 1)[0] for n in names if "/" in n}
    found = sorted(t for t in tops if t.endswith(".dist-info"))
    stem = "-".join(wheel.split("-")[:2]).lower()
    matching = [t for t in found if t.lower().startswith(stem)] or found
    if len(matching) != 1:
        raise WheelError(f"{wheel}: expected one .dist-info directory, found {found or 'none'}")
    return matching[0]


def _expand_tags(tag_lines: list[str]) -> tuple[str, ...]:
    """Expand compressed tags (``py2.py3-none-any``) into single triples."""
    out: list[str] = []
    for line in tag_lines:
        interp, abi, plat = line.strip().split("-")
        for i in interp.split("."):
            for a in abi.split("."):
                for p in plat.split("."):
                    out.append(f"{i}-{a}-{p}")
    return tuple(dict.fromkeys(out))


def _entry_points(text: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    result = []
    for section in ("console_scripts", "gui_scripts"):
        items = parser.items(section) if parser.has_section(section) else []
        result.append(tuple((k.strip(), v.strip()) for k, v in items))
    return result[0], result[1]


def _record_hashes(data: bytes) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for row in csv.reader(io.StringIO(data.decode("utf-8"))):
        if len(row) >= 2 and row[1]:
            algo, _, value = row[1].partition("=")
            out[row[0]] = (algo, value)
    return out


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def read_wheel(archive: zipfile.ZipFile, filename: str, wheel_sha256: str,
               put_stream: PutStream) -> WheelManifest:
    """Store every member of ``archive`` and build its manifest."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    names = [safe_member_path(i.filename, filename) for i in infos]
    dist_info = _find_dist_info(names, filename)
    try:
        wheel_meta = archive.read(f"{dist_info}/WHEEL").decode("utf-8")
        record = _record_hashes(archive.read(f"{dist_info}/RECORD"))
    except KeyError as exc:
        raise WheelError(f"{filename}: {dist_info} lacks WHEEL or RECORD") from exc
    headers = [line.partition(":") for line in wheel_meta.splitlines() if ":" in line]
    tag_lines = [v.strip() for k, _, v in headers if k.strip() == "Tag"]
    purelib = any(k.strip() == "Root-Is-Purelib" and v.strip().lower() == "true"
                  for k, _, v in headers)
    if not tag_lines:
        tag_lines = ["-".join(filename[:-4].split("-")[-3:])]
    files: list[ManifestFile] = []
    for info, path in zip(infos, names, strict=True):
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise WheelError(f"{filename}: entry {path!r} is a symlink, which wheels may not hold")
        expected = record.get(path)
        hasher = hashlib.new(expected[0]) if expected and expected[0] != "sha256" else None

        def chunks(member: zipfile.ZipInfo = info, side: object = hasher) -> Iterator[bytes]:
            with archive.open(member) as handle:
                while block := handle.read(CHUNK):
                    if side is not None:
                        side.update(block)  # type: ignore[attr-defined]
                    yield block

        sha = put_stream(chunks(), label=f"{filename}:{path}", executable=bool(mode & 0o111))
        if expected is not None:
            actual = _b64(hasher.digest() if hasher is not None else bytes.fromhex(sha))
            if actual != expected[1]:
                raise WheelError(
                    f"{filename}: RECORD says {path} has {expected[0]}={expected[1]}, "
                    f"content has {expected[0]}={actual}",
                    hint="the wheel was modified after it was built; do not install it",
                )
        files.append(ManifestFile(path, sha, info.file_size, bool(mode & 0o111)))
    console: tuple[tuple[str, str], ...] = ()
    gui: tuple[tuple[str, str], ...] = ()
    if f"{dist_info}/entry_points.txt" in names:
        console, gui = _entry_points(archive.read(f"{dist_info}/entry_points.txt").decode())
    stem = dist_info[: -len(".dist-info")]
    name, _, version = stem.partition("-")
    return WheelManifest(
        filename=filename, wheel_sha256=wheel_sha256, name=name, version=version,
        dist_info=dist_info, tags=_expand_tags(tag_lines), root_is_purelib=purelib,
        files=tuple(files), console_scripts=console, gui_scripts=gui,
    )
