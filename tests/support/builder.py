"""Build real, reproducible wheels and sdists from the TOML descriptions in ``fixtures/packages/``.

Every test that talks to a package index needs packages whose bytes never change: hashes in
lock files, ETags and range offsets are asserted against them. So nothing here depends on the
clock, the umask or the file system's listing order: zip and tar entries are sorted, every
timestamp is 1980-01-01 (``SOURCE_DATE_EPOCH``, when set, is deliberately ignored so that a
rebuild is byte-identical whatever the environment), and gzip carries mtime 0.

A description file looks like::

    name = "alpha"                      # project name, any spelling
    summary = "..."                     # optional
    requires-python = ">=3.8"           # default for every version
    tags = ["py3-none-any"]             # default wheel tags, one wheel per entry
    [[version]]
    version = "1.0.0"
    requires-dist = ["beta>=1"]
    extras = { fast = ["delta"] }
    sdist = true                         # default true
    wheel = true                         # default true
    yanked = "reason"                    # PEP 592; true for no reason
    upload-time = "2024-01-02T03:04:05Z" # PEP 700; default derived from the version index
    entry-points = { console_scripts = { alpha = "alpha:main" } }
    files = { "alpha/extra.py" = "X = 1\\n" }
    data-scripts = { "alpha-tool" = "#!python\\nprint('hi')\\n" }
    generate-files = 2000                # many small modules, for range-read tests

Keys given at the top level are defaults for every ``[[version]]``.

Run ``python -m tests.support.builder OUTDIR`` to build the set by hand.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import json
import re
import sys
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent.parent / "fixtures"
PACKAGES_DIR = FIXTURES / "packages"
DEFAULT_BUILD_DIR = FIXTURES / "build"

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
TAR_MTIME = 315532800  # 1980-01-01T00:00:00Z
BASE_UPLOAD_TIME = "2024-01-01T00:00:00Z"


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name_part(name: str) -> str:
    """Distribution name as written in wheel and sdist file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """One release of a fixture package, with the defaults of its file already applied."""

    name: str
    version: str
    summary: str
    requires_dist: tuple[str, ...]
    extras: tuple[tuple[str, tuple[str, ...]], ...]
    requires_python: str | None
    tags: tuple[str, ...]
    sdist: bool
    wheel: bool
    yanked: bool | str
    upload_time: str
    entry_points: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    files: tuple[tuple[str, str], ...]
    data_scripts: tuple[tuple[str, str], ...]
    generate_files: int


@dataclass(frozen=True, slots=True)
class BuiltFile:
    """A distribution file on disk plus what an index says about it."""

    project: str  # normalized name
    version: str
    filename: str
    path: Path
    sha256: str
    size: int
    requires_python: str | None
    yanked: bool | str
    upload_time: str
    metadata: bytes | None  # the wheel's METADATA (PEP 658 body); None for sdists

    @property
    def metadata_sha256(self) -> str | None:
        return hashlib.sha256(self.metadata).hexdigest() if self.metadata is not None else None


@dataclass(slots=True)
class BuildResult:
    """All files built from one fixture set, grouped by normalized project name."""

    directory: Path
    files: list[BuiltFile] = field(default_factory=list)

    def projects(self) -> dict[str, list[BuiltFile]]:
        out: dict[str, list[BuiltFile]] = {}
        for f in sorted(self.files, key=lambda f: (f.project, f.filename)):
            out.setdefault(f.project, []).append(f)
        return out

    def by_filename(self, filename: str) -> BuiltFile:
        for f in self.files:
            if f.filename == filename:
                return f
        raise KeyError(filename)


def _pairs(table: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in dict(table or {}).items()))


def load_specs(packages_dir: Path = PACKAGES_DIR) -> list[VersionSpec]:
    """Read every ``*.toml`` in *packages_dir* into version specs (sorted, deterministic)."""
    specs: list[VersionSpec] = []
    for path in sorted(packages_dir.glob("*.toml")):
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        defaults = {k: v for k, v in doc.items() if k != "version"}
        name = str(doc["name"])
        for index, entry in enumerate(doc.get("version", [])):
            merged = {**defaults, **entry}
            yanked = merged.get("yanked", False)
            specs.append(VersionSpec(
                name=name,
                version=str(merged["version"]),
                summary=str(merged.get("summary", f"ghostenv fixture package {name}")),
                requires_dist=tuple(merged.get("requires-dist", ())),
                extras=tuple(sorted((str(k), tuple(v))
                                    for k, v in dict(merged.get("extras", {})).items())),
                requires_python=merged.get("requires-python"),
                tags=tuple(merged.get("tags", ("py3-none-any",))),
                sdist=bool(merged.get("sdist", True)),
                wheel=bool(merged.get("wheel", True)),
                yanked=yanked if isinstance(yanked, str) else bool(yanked),
                upload_time=str(merged.get("upload-time",
                                           f"2024-01-{index + 1:02d}T00:00:00Z")),
                entry_points=tuple(sorted((str(g), _pairs(t)) for g, t in
                                          dict(merged.get("entry-points", {})).items())),
                files=_pairs(merged.get("files")),
                data_scripts=_pairs(merged.get("data-scripts")),
                generate_files=int(merged.get("generate-files", 0)),
            ))
    return specs


def _with_extra(requirement: str, extra: str) -> str:
    req, _, marker = requirement.partition(";")
    marker = marker.strip()
    if marker:
        return f'{req.strip()}; ({marker}) and extra == "{extra}"'
    return f'{req.strip()}; extra == "{extra}"'


def core_metadata(spec: VersionSpec, metadata_version: str = "2.3") -> bytes:
    """Core metadata (METADATA / PKG-INFO) for *spec*, in a fixed field order."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {spec.name}",
             f"Version: {spec.version}", f"Summary: {spec.summary}"]
    if spec.requires_python:
        lines.append(f"Requires-Python: {spec.requires_python}")
    lines.extend(f"Requires-Dist: {r}" for r in spec.requires_dist)
    for extra, deps in spec.extras:
        lines.append(f"Provides-Extra: {extra}")
        lines.extend(f"Requires-Dist: {_with_extra(d, extra)}" for d in deps)
    return ("\n".join(lines) + "\n").encode()


def _module(spec: VersionSpec) -> str:
    return wheel_name_part(spec.name)


def _source_files(spec: VersionSpec) -> dict[str, bytes]:
    """Importable package contents shared by the wheel and the sdist (paths relative to root)."""
    mod = _module(spec)
    files: dict[str, bytes] = {
        f"{mod}/__init__.py": (f'"""Fixture package {spec.name}."""\n\n'
                               f'__version__ = "{spec.version}"\n\n\n'
                               f"def main() -> int:\n"
                               f'    print("{spec.name} {spec.version}")\n'
                               f"    return 0\n").encode(),
    }
    for i in range(spec.generate_files):
        files[f"{mod}/gen/m{i:05d}.py"] = f"VALUE = {i}\n".encode() + b"# " + b"x" * 64 + b"\n"
    for rel, text in spec.files:
        files[rel] = text.encode()
    return files


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _zip_add(zf: zipfile.ZipFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.external_attr = (0o100000 | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    zf.writestr(info, data, compresslevel=6)


def build_wheel(spec: VersionSpec, tag: str, out_dir: Path) -> Path:
    """Write one wheel for *spec* with compatibility tag *tag*; return its path."""
    base = f"{wheel_name_part(spec.name)}-{spec.version}"
    dist_info = f"{base}.dist-info"
    entries: dict[str, bytes] = dict(sorted(_source_files(spec).items()))
    for script, text in spec.data_scripts:
        entries[f"{base}.data/scripts/{script}"] = text.encode()
    purelib = tag.endswith("-none-any")
    meta: dict[str, bytes] = {
        f"{dist_info}/METADATA": core_metadata(spec),
        f"{dist_info}/WHEEL": ("Wheel-Version: 1.0\nGenerator: ghostenv-fixtures 1\n"
                               f"Root-Is-Purelib: {'true' if purelib else 'false'}\n"
                               + "".join(f"Tag: {t}\n" for t in _expand_tag(tag))).encode(),
    }
    if spec.entry_points:
        text = ""
        for group, items in spec.entry_points:
            text += f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items) + "\n"
        meta[f"{dist_info}/entry_points.txt"] = text.encode()
    entries.update(sorted(meta.items()))
    record_name = f"{dist_info}/RECORD"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for name, data in entries.items():
        writer.writerow([name, _record_hash(data), str(len(data))])
    writer.writerow([record_name, "", ""])
    entries[record_name] = buf.getvalue().encode()

    path = out_dir / f"{base}-{tag}.whl"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for name, data in entries.items():
            executable = "/scripts/" in name and name.startswith(f"{base}.data/")
            _zip_add(zf, name, data, 0o755 if executable else 0o644)
    path.write_bytes(raw.getvalue())
    return path


def _expand_tag(tag: str) -> list[str]:
    py, abi, plat = tag.split("-")
    return [f"{x}-{y}-{z}" for x in py.split(".") for y in abi.split(".") for z in plat.split(".")]


def _pyproject(spec: VersionSpec) -> bytes:
    deps = "".join(f"    {json.dumps(r)},\n" for r in spec.requires_dist)
    text = ("[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n"
            f"[project]\nname = {json.dumps(spec.name)}\nversion = {json.dumps(spec.version)}\n"
            f"description = {json.dumps(spec.summary)}\n")
    if spec.requires_python:
        text += f"requires-python = {json.dumps(spec.requires_python)}\n"
    text += f"dependencies = [\n{deps}]\n"
    if spec.extras:
        text += "\n[project.optional-dependencies]\n"
        for extra, items in spec.extras:
            text += f"{extra} = [{', '.join(json.dumps(d) for d in items)}]\n"
    for group, scripts in spec.entry_points:
        if group == "console_scripts":
            text += "\n[project.scripts]\n"
            text += "".join(f"{json.dumps(k)} = {json.dumps(v)}\n" for k, v in scripts)
    text += f"\n[tool.hatch.build.targets.wheel]\npackages = [{json.dumps(_module(spec))}]\n"
    return text.encode()


def build_sdist(spec: VersionSpec, out_dir: Path) -> Path:
    """Write ``<name>-<version>.tar.gz`` (PKG-INFO 2.2, hatchling pyproject) deterministically."""
    base = f"{wheel_name_part(spec.name)}-{spec.version}"
    entries = {f"{base}/{k}": v for k, v in _source_files(spec).items()}
    entries[f"{base}/PKG-INFO"] = core_metadata(spec, "2.2")
    entries[f"{base}/pyproject.toml"] = _pyproject(spec)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(entries):
            data = entries[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = TAR_MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tf.addfile(info, io.BytesIO(data))
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=9) as zf:
        zf.write(tar_bytes.getvalue())
    path = out_dir / f"{base}.tar.gz"
    path.write_bytes(gz.getvalue())
    return path


def _described(path: Path, spec: VersionSpec, metadata: bytes | None) -> BuiltFile:
    data = path.read_bytes()
    return BuiltFile(project=normalize(spec.name), version=spec.version, filename=path.name,
                     path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                     requires_python=spec.requires_python, yanked=spec.yanked,
                     upload_time=spec.upload_time, metadata=metadata)


def build_all(out_dir: Path = DEFAULT_BUILD_DIR,
              packages_dir: Path = PACKAGES_DIR) -> BuildResult:
    """Build every described file into *out_dir* (created; existing files are overwritten)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result = BuildResult(directory=out_dir)
    for spec in load_specs(packages_dir):
        if spec.wheel:
            for tag in spec.tags:
                path = build_wheel(spec, tag, out_dir)
                result.files.append(_described(path, spec, core_metadata(spec)))
        if spec.sdist:
            result.files.append(_described(build_sdist(spec, out_dir), spec, None))
    return result


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else DEFAULT_BUILD_DIR
    result = build_all(out)
    for f in result.files:
        print(f"{f.sha256}  {f.size:>9}  {f.filename}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
