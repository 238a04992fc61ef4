"""The per-wheel manifest: everything needed to install a wheel without opening its zip.

A manifest is keyed by the wheel's own sha256 and stored as JSON. It records,
for each archive member, the path, the sha256 of its bytes (its name in the
object store), its size and whether it is executable, plus the parsed pieces
an installer needs (dist-info directory, WHEEL tags, entry points). Keeping
these parsed once is why a second materialization does no zip work at all.

Beside it, a :class:`LinkIndex` is the same manifest compiled for the installer
(directories to make, object -> target pairs, the RECORD rows of linked files)
and stored with :mod:`marshal`: a warm install reads it in microseconds per
wheel and does no per-file Python work besides one ``link`` call.
"""

from __future__ import annotations

import marshal

from ghostenv.store.record import record

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from typing import Any, NamedTuple

FORMAT = 1

if TYPE_CHECKING:
    class ManifestFile(NamedTuple):
        """One archive member (see the runtime definition below)."""

        path: str
        sha256: str
        size: int
        executable: bool
else:
    class ManifestFile(tuple):  # type: ignore[type-arg]
        """One archive member: its path in the wheel, the object it is stored as, and its mode.

        A tuple rather than a record class: a manifest of a big wheel holds thousands, and a
        tuple is built several times faster. Written out rather than made by
        ``collections.namedtuple``: importing collections (with keyword, operator, reprlib)
        costs ~2 ms of every fresh-environment sync, which never builds a manifest.
        """

        __slots__ = ()
        _fields = ("path", "sha256", "size", "executable")

        def __new__(cls, path: str, sha256: str, size: int, executable: bool) -> ManifestFile:
            return tuple.__new__(cls, (path, sha256, size, executable))

        @classmethod
        def _make(cls, values: Any) -> ManifestFile:
            made = tuple.__new__(cls, values)
            if len(made) != 4:
                raise TypeError(f"ManifestFile takes 4 values, got {len(made)}")
            return made

        def __getnewargs__(self) -> tuple[Any, ...]:
            return tuple(self)

        def __repr__(self) -> str:
            return "ManifestFile(path={!r}, sha256={!r}, size={!r}, executable={!r})".format(*self)

        path = property(lambda self: self[0], doc="the member's path in the wheel")
        sha256 = property(lambda self: self[1], doc="sha256 hex digest = the store object's name")
        size = property(lambda self: self[2], doc="bytes")
        executable = property(lambda self: self[3], doc="stored as an executable object")


@record()
class WheelManifest:
    """A stored wheel, ready to be materialized."""

    filename: str
    wheel_sha256: str
    name: str
    version: str
    dist_info: str
    tags: tuple[str, ...]
    root_is_purelib: bool
    files: tuple[ManifestFile, ...]
    console_scripts: tuple[tuple[str, str], ...]
    gui_scripts: tuple[tuple[str, str], ...]

    @property
    def data_dir(self) -> str:
        """The ``<name>-<version>.data`` directory that holds non-root scheme parts."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    def to_json(self) -> str:
        """Serialise (stable key order so the bytes are reproducible)."""
        doc: dict[str, Any] = {
            "format": FORMAT,
            "filename": self.filename,
            "wheel_sha256": self.wheel_sha256,
            "name": self.name,
            "version": self.version,
            "dist_info": self.dist_info,
            "tags": list(self.tags),
            "root_is_purelib": self.root_is_purelib,
            "files": [[f.path, f.sha256, f.size, f.executable] for f in self.files],
            "console_scripts": [list(e) for e in self.console_scripts],
            "gui_scripts": [list(e) for e in self.gui_scripts],
        }
        import json

        return json.dumps(doc, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> WheelManifest:
        """Parse what :meth:`to_json` wrote; raises ValueError on another format."""
        import json

        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"manifest format {doc.get('format')!r} is not {FORMAT}")
        return cls(
            filename=doc["filename"],
            wheel_sha256=doc["wheel_sha256"],
            name=doc["name"],
            version=doc["version"],
            dist_info=doc["dist_info"],
            tags=tuple(doc["tags"]),
            root_is_purelib=bool(doc["root_is_purelib"]),
            files=tuple(map(ManifestFile._make, doc["files"])),
            console_scripts=tuple((a, b) for a, b in doc["console_scripts"]),
            gui_scripts=tuple((a, b) for a, b in doc["gui_scripts"]),
        )


#: Layout version of :class:`LinkIndex`'s marshalled tuple (bump on any change).
INDEX_FORMAT = 2
#: The characters that make a RECORD field need quotes (``csv.QUOTE_MINIMAL``'s rule).
_CSV_SPECIAL = frozenset(',"\r\n')


def record_field(text: str) -> str:
    """One RECORD (CSV) field as :mod:`csv` writes it, without importing ``csv`` (and ``re``)."""
    if _CSV_SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def record_hash(sha256_hex: str) -> str:
    """``sha256=<urlsafe base64, unpadded>`` of a hex digest, as RECORD spells it."""
    import binascii

    raw = binascii.b2a_base64(bytes.fromhex(sha256_hex), newline=False)
    return "sha256=" + raw.rstrip(b"=").replace(b"+", b"-").replace(b"/", b"_").decode("ascii")


_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def record_hash_few(sha256_hex: str) -> str:
    """:func:`record_hash` without :mod:`binascii` (an extension module: ~0.3 ms to load on
    the fresh-environment sync, which encodes only its few written files' digests); a
    few microseconds slower per digest, so bulk encoders keep :func:`record_hash`."""
    bits = len(sha256_hex) * 4
    pad = -bits % 6
    number = int(sha256_hex, 16) << pad if sha256_hex else 0
    count = (bits + pad) // 6
    return "sha256=" + "".join(_URLSAFE[(number >> (6 * (count - 1 - i))) & 63]
                               for i in range(count))


def object_rel(sha256: str) -> str:
    """An object's path inside an object tree (``ab/cd/<rest>``)."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256[4:]}"


#: Files an installer writes itself: a wheel's own copies are never linked nor listed.
GENERATED = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")


@record()
class LinkIndex:
    """A :class:`WheelManifest` compiled for installing, once per wheel.

    ``dirs`` are the directories the wheel's root files need, relative to the
    install root (``site-packages``), parents before children, the dist-info
    included. ``plain`` and ``executables`` pair an object (``ab/cd/<rest>``
    inside the plain or executable object tree) with its root-relative target.
    ``record`` holds the RECORD rows of those files, so installing computes no
    digest encodings. ``data`` are the ``.data/`` members, placed one by one
    (their targets depend on the environment's scheme). The wheel's own
    RECORD, INSTALLER, REQUESTED and ``direct_url.json`` are left out.

    ``dirs``, ``plain`` and ``executables`` are ordered by top-level name
    (``numpy``, ``numpy-2.0.dist-info``, ``""`` for files at the root), and
    ``groups`` holds, per top-level name, its ``(name, dirs start, end, plain
    start, end, executables start, end)`` ranges: the installer works on whole
    trees (make a tree's directories, then link its files) without looking at
    a path.
    """

    wheel_sha256: str
    filename: str
    name: str
    version: str
    dist_info: str
    tags: tuple[str, ...]
    root_is_purelib: bool
    dirs: tuple[str, ...]
    plain: tuple[tuple[str, str], ...]
    executables: tuple[tuple[str, str], ...]
    groups: tuple[tuple[str, int, int, int, int, int, int], ...]
    record: str
    data: tuple[ManifestFile, ...]
    console_scripts: tuple[tuple[str, str], ...]
    gui_scripts: tuple[tuple[str, str], ...]

    @property
    def data_dir(self) -> str:
        """The ``<name>-<version>.data`` directory that holds non-root scheme parts."""
        return self.dist_info[: -len(".dist-info")] + ".data"

    @property
    def file_count(self) -> int:
        """Members to place (linked root files and ``.data`` files)."""
        return len(self.plain) + len(self.executables) + len(self.data)

    @classmethod
    def compile(cls, manifest: WheelManifest) -> LinkIndex:
        """Work out directories, link pairs and RECORD rows of ``manifest`` (once per wheel)."""
        data_prefix = manifest.data_dir + "/"
        generated = {f"{manifest.dist_info}/{name}" for name in GENERATED}
        dirs: dict[str, None] = {}
        plain: list[tuple[str, str]] = []
        executables: list[tuple[str, str]] = []
        data: list[ManifestFile] = []
        rows: list[str] = []
        for item in manifest.files:
            path = item.path
            if path in generated:
                continue
            if path.startswith(data_prefix):
                data.append(item)
                continue
            parent = path.rpartition("/")[0]
            while parent and parent not in dirs:
                dirs[parent] = None
                parent = parent.rpartition("/")[0]
            (executables if item.executable else plain).append((object_rel(item.sha256), path))
            rows.append(f"{record_field(path)},{record_hash(item.sha256)},{item.size}\n")
        dirs.setdefault(manifest.dist_info, None)

        def top(path: str) -> str:
            head, slash, _ = path.partition("/")
            return head if slash else ""

        ordered_dirs = sorted(dirs, key=lambda d: (d.partition("/")[0], d.count("/"), d))
        plain.sort(key=lambda pair: top(pair[1]))  # stable: the archive's order within a tree
        executables.sort(key=lambda pair: top(pair[1]))
        names = sorted({d.partition("/")[0] for d in ordered_dirs}
                       | {top(p) for _, p in plain} | {top(p) for _, p in executables})
        tops = ([d.partition("/")[0] for d in ordered_dirs], [top(p) for _, p in plain],
                [top(p) for _, p in executables])
        groups: list[tuple[str, int, int, int, int, int, int]] = []
        for name in names:
            spans: list[int] = []
            for keys in tops:  # each sorted by top-level name: one contiguous run per name
                hits = [i for i, key in enumerate(keys) if key == name]
                spans += [hits[0], hits[-1] + 1] if hits else [0, 0]
            groups.append((name, spans[0], spans[1], spans[2], spans[3], spans[4], spans[5]))
        return cls(
            wheel_sha256=manifest.wheel_sha256, filename=manifest.filename, name=manifest.name,
            version=manifest.version, dist_info=manifest.dist_info, tags=manifest.tags,
            root_is_purelib=manifest.root_is_purelib, dirs=tuple(ordered_dirs),
            plain=tuple(plain), executables=tuple(executables), groups=tuple(groups),
            record="".join(rows), data=tuple(data), console_scripts=manifest.console_scripts,
            gui_scripts=manifest.gui_scripts,
        )

    def to_bytes(self) -> bytes:
        """The marshalled form (read back by :meth:`from_bytes` on the same Python line)."""
        return marshal.dumps((
            INDEX_FORMAT, self.wheel_sha256, self.filename, self.name, self.version,
            self.dist_info, self.tags, self.root_is_purelib, self.dirs, self.plain,
            self.executables, self.groups, self.record, tuple(tuple(f) for f in self.data),
            self.console_scripts, self.gui_scripts,
        ))

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinkIndex:
        """Parse :meth:`to_bytes`; ValueError for another layout or damaged bytes."""
        try:
            doc = marshal.loads(blob)
        except (EOFError, TypeError) as exc:
            raise ValueError(f"damaged link index ({exc})") from None
        if not isinstance(doc, tuple) or len(doc) != 16 or doc[0] != INDEX_FORMAT:
            raise ValueError("link index of another format")
        (_, sha, filename, name, version, dist_info, tags, purelib, dirs, plain, executables,
         groups, record, data, console, gui) = doc
        return cls(wheel_sha256=sha, filename=filename, name=name, version=version,
                   dist_info=dist_info, tags=tags, root_is_purelib=purelib, dirs=dirs,
                   plain=plain, executables=executables, groups=groups, record=record,
                   data=tuple(map(ManifestFile._make, data)), console_scripts=console,
                   gui_scripts=gui)
