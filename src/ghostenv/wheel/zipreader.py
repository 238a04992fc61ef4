"""A minimal, careful ZIP reader that touches only the bytes it needs.

``zipfile`` is fine for reading a whole archive, but a resolver wants one
member (``METADATA``) out of wheels that can weigh hundreds of megabytes,
sometimes over HTTP where every byte is paid for. The functions here work on
*windows* of the file (``bytes`` plus the absolute offset they start at), so
the local reader (:class:`LocalZip`) and the remote reader
(:mod:`ghostenv.wheel.remote`) share all the parsing and safety checks and only
differ in how they fetch a byte range.

Layout facts used (APPNOTE 6.3.x): the End Of Central Directory record (EOCD,
22 bytes + up to 65535 bytes of comment) ends the file; a Zip64 EOCD locator
(20 bytes) sits right before it when the archive needs 64-bit fields; the
central directory lists every member with its local header offset.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Callable

from ghostenv.errors import WheelError

EOCD_SIG = b"PK\x05\x06"
EOCD_SIZE = 22
MAX_COMMENT = 0xFFFF
#: The most a reader ever needs from the end to find the EOCD: record, max
#: comment and the Zip64 locator before it.
MAX_EOCD_SPAN = EOCD_SIZE + MAX_COMMENT + 20
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_LOCATOR_SIZE = 20
ZIP64_EOCD_SIG = b"PK\x06\x06"
ZIP64_EOCD_SIZE = 56
CENTRAL_SIG = b"PK\x01\x02"
CENTRAL_SIZE = 46
LOCAL_SIG = b"PK\x03\x04"
LOCAL_SIZE = 30

STORED = 0
DEFLATED = 8

_EOCD = struct.Struct("<4sHHHHIIH")
_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")


class NeedBytes(Exception):
    """The window given does not hold ``[start, end)``; fetch it and retry."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__(f"need bytes {start}-{end}")
        self.start = start
        self.end = end


@dataclass(frozen=True, slots=True)
class Directory:
    """Where the central directory is, as found from the end of the file."""

    cd_offset: int  # absolute, after adding any prefix ("concat") bytes
    cd_size: int
    entries: int
    prefix: int  # bytes prepended before the archive proper (self-extractors)


@dataclass(frozen=True, slots=True)
class Entry:
    """One central directory record (the fields a reader needs)."""

    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int  # absolute offset of the local header


@dataclass(slots=True)
class ReadStats:
    """I/O accounting: how many reads and how many bytes it took."""

    reads: int = 0
    bytes_read: int = 0
    ranges: list[tuple[int, int]] = field(default_factory=list)


def _slice(window: bytes, base: int, start: int, end: int) -> bytes:
    if start < base or end > base + len(window):
        raise NeedBytes(start, end)
    return window[start - base:end - base]


def find_directory(tail: bytes, tail_offset: int, file_size: int, label: str) -> Directory:
    """Locate the central directory from a window ending at the end of the file.

    Scans backwards for the EOCD signature, accepting a candidate only when its
    comment length reaches exactly the end of the file (so a ``PK\\5\\6`` inside
    the comment cannot fool it). Raises :class:`NeedBytes` when the Zip64 record
    lies before the window.
    """
    if tail_offset + len(tail) != file_size:
        raise ValueError("tail window must end at the end of the file")
    if file_size < EOCD_SIZE:
        raise WheelError(f"{label}: not a zip archive ({file_size} bytes)",
                         hint="the file is empty or truncated; download it again")
    pos = tail.rfind(EOCD_SIG)
    while pos >= 0:
        if len(tail) - pos >= EOCD_SIZE:
            comment_len = _EOCD.unpack_from(tail, pos)[7]
            if pos + EOCD_SIZE + comment_len == len(tail):
                break
        pos = tail.rfind(EOCD_SIG, 0, pos)
    if pos < 0:
        if len(tail) < min(file_size, MAX_EOCD_SPAN):
            raise NeedBytes(max(0, file_size - MAX_EOCD_SPAN), file_size)
        raise WheelError(f"{label}: not a zip archive (no end of central directory record)",
                         hint="the file is truncated or is not a wheel; download it again")
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, pos)
    eocd_abs = tail_offset + pos
    if disk != 0 or cd_disk != 0:
        raise WheelError(f"{label}: multi-disk zip archives are not supported")
    zip64 = False
    loc_abs = eocd_abs - ZIP64_LOCATOR_SIZE
    if loc_abs >= 0:
        loc = _slice(tail, tail_offset, loc_abs, eocd_abs) if loc_abs >= tail_offset else None
        if loc is None:
            raise NeedBytes(loc_abs, eocd_abs)
        if loc[:4] == ZIP64_LOCATOR_SIG:
            _, _, rec_offset, _ = _LOCATOR.unpack(loc)
            # The locator's offset ignores prepended bytes; the record sits just before it.
            rec_abs = loc_abs - ZIP64_EOCD_SIZE
            rec = _slice(tail, tail_offset, rec_abs, rec_abs + ZIP64_EOCD_SIZE) if rec_abs >= 0 \
                else b""
            if rec[:4] != ZIP64_EOCD_SIG:
                raise WheelError(f"{label}: corrupt Zip64 end of central directory",
                                 hint="the archive is truncated or damaged")
            (_, _, _, _, _, _, _, count, cd_size, cd_offset) = _ZIP64_EOCD.unpack(rec)
            zip64 = True
            del rec_offset
    dir_end = eocd_abs - (ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE if zip64 else 0)
    prefix = dir_end - cd_size - cd_offset
    if prefix < 0:
        raise WheelError(f"{label}: truncated zip archive (central directory starts "
                         f"{-prefix} bytes before the file)",
                         hint="the download was cut short; fetch the file again")
    return Directory(cd_offset + prefix, cd_size, count, prefix)


def _check_name(name: str, label: str) -> None:
    if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or name[1:2] == ":":
        raise WheelError(f"{label}: entry name {name!r} is absolute or not a POSIX path",
                         hint="the archive is unsafe; do not install it")
    if ".." in name.split("/"):
        raise WheelError(f"{label}: entry name {name!r} escapes the archive",
                         hint="the archive is unsafe; do not install it")


_HEAD = struct.Struct("<4s24xHHH")  # signature, name/extra/comment lengths
_UNSAFE = (b"\n/", b"\\", b"\x00", b":", b"..")  # any hit: check each name properly


class CentralDirectory:
    """A walked central directory: every name, and records decoded on demand.

    Walking torch's 12,000-entry directory must take a few milliseconds, so the
    walk only splits records and slices raw names; safety checks run once over
    all names joined (in C), names are decoded on first use, and :meth:`entry`
    decodes the full record of the few members a caller actually wants.
    """

    __slots__ = ("_data", "_directory", "_joined", "_label", "_names", "_raw", "_records")

    def __init__(self, data: bytes, directory: Directory, label: str) -> None:
        self._data = data
        self._directory = directory
        self._label = label
        self._names: list[str] | None = None
        self._raw: list[bytes] = []
        self._records: list[int] = []
        raw, records = self._raw, self._records
        add_raw, add_record = raw.append, records.append
        unpack = _HEAD.unpack_from
        end = len(data)
        limit = end - CENTRAL_SIZE
        pos = 0
        while pos < end:
            if pos > limit:
                self._corrupt(pos)
            sig, nlen, elen, clen = unpack(data, pos)
            if sig != CENTRAL_SIG:
                self._corrupt(pos)
            add_record(pos)
            pos += CENTRAL_SIZE
            add_raw(data[pos:pos + nlen])
            pos += nlen + elen + clen
        if pos != end:
            self._corrupt(pos)
        if len(raw) != directory.entries:
            raise WheelError(f"{label}: central directory lists {len(raw)} entries, "
                             f"the end record says {directory.entries}",
                             hint="the archive is truncated or damaged")
        joined = b"\n" + b"\n".join(raw) + b"\n"
        # Kept for find_suffix only while no name holds a newline (so the
        # n-th newline is exactly the start of name n).
        self._joined: bytes | None = None
        if joined.count(b"\n") != len(raw) + 1:
            for name in self.names:
                _check_name(name, label)
            return
        self._joined = joined
        if any(bad in joined for bad in _UNSAFE):
            for name in self.names:
                _check_name(name, label)

    @property
    def names(self) -> list[str]:
        """Member names in directory order (UTF-8 when flagged, else CP437)."""
        if self._names is None:
            self._names = [self._decode(i) for i in range(len(self._raw))]
        return self._names

    def name(self, index: int) -> str:
        """One member's name, decoded."""
        return self._names[index] if self._names is not None else self._decode(index)

    def _decode(self, index: int) -> str:
        flags = struct.unpack_from("<H", self._data, self._records[index] + 8)[0]
        return self._raw[index].decode("utf-8" if flags & 0x800 else "cp437")

    def find_suffix(self, suffix: str) -> list[int]:
        """Indices of members whose name ends with ASCII ``suffix`` (cheap: no decoding)."""
        tail = suffix.encode("ascii")
        joined = self._joined
        if joined is None or not tail:
            return [i for i, raw in enumerate(self._raw) if raw.endswith(tail)]
        # Search the newline-joined names in C; a hit's index is the number of
        # newlines before it, less the leading one.
        needle = tail + b"\n"
        found: list[int] = []
        pos = joined.find(needle)
        last, index = 0, -1
        while pos >= 0:
            index += joined.count(b"\n", last, pos)
            last = pos
            found.append(index)
            pos = joined.find(needle, pos + 1)
        return found

    def _corrupt(self, pos: int) -> None:
        raise WheelError(f"{self._label}: corrupt central directory at offset "
                         f"{self._directory.cd_offset + pos}",
                         hint="the archive is truncated or damaged")

    def __len__(self) -> int:
        return len(self._raw)

    def entry(self, index: int) -> Entry:
        """Decode record ``index`` fully (sizes, CRC, Zip64 extra, offset)."""
        data, pos, name = self._data, self._records[index], self._decode(index)
        (_, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, _, _, _, _,
         offset) = _CENTRAL.unpack_from(data, pos)
        name_end = pos + CENTRAL_SIZE + nlen
        if 0xFFFFFFFF in (usize, csize, offset):
            usize, csize, offset = _zip64_extra(data[name_end:name_end + elen], usize, csize,
                                                offset, name=name, label=self._label)
        return Entry(name, method, flags, crc, csize, usize, offset + self._directory.prefix)

    def entries(self) -> list[Entry]:
        """Every record decoded (costly for huge archives; prefer :meth:`entry`)."""
        return [self.entry(i) for i in range(len(self._raw))]


def parse_central_directory(data: bytes, directory: Directory, label: str) -> list[Entry]:
    """Walk and decode the whole central directory (``data`` is exactly its bytes)."""
    return CentralDirectory(data, directory, label).entries()


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int, *, name: str,
                 label: str) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 0x0001:
            body = extra[pos + 4:pos + 4 + size]
            values = list(struct.unpack_from(f"<{len(body) // 8}Q", body))
            try:
                if usize == 0xFFFFFFFF:
                    usize = values.pop(0)
                if csize == 0xFFFFFFFF:
                    csize = values.pop(0)
                if offset == 0xFFFFFFFF:
                    offset = values.pop(0)
            except IndexError:
                break
            return usize, csize, offset
        pos += 4 + size
    raise WheelError(f"{label}: entry {name!r} lacks its Zip64 extra field",
                     hint="the archive is damaged")


def local_data_span(header: bytes, entry: Entry, label: str) -> tuple[int, int]:
    """From a local header's first 30 bytes, the absolute ``[start, end)`` of the data."""
    if len(header) < LOCAL_SIZE or header[:4] != LOCAL_SIG:
        raise WheelError(f"{label}: bad local header for {entry.name!r}",
                         hint="the archive is truncated or damaged")
    nlen, elen = _LOCAL.unpack_from(header)[9:11]
    start = entry.header_offset + LOCAL_SIZE + nlen + elen
    return start, start + entry.compressed_size


def decompress(raw: bytes, entry: Entry, label: str) -> bytes:
    """Inflate one member's bytes and check its size and CRC."""
    if entry.flags & 0x1:
        raise WheelError(f"{label}: {entry.name!r} is encrypted")
    if entry.method == STORED:
        data = raw
    elif entry.method == DEFLATED:
        try:
            inflater = zlib.decompressobj(-15)
            data = inflater.decompress(raw, entry.size + 1) + inflater.flush()
        except zlib.error as exc:
            raise WheelError(f"{label}: cannot inflate {entry.name!r}: {exc}",
                             hint="the archive is damaged") from exc
    else:
        raise WheelError(f"{label}: {entry.name!r} uses unsupported compression method "
                         f"{entry.method}", hint="wheels may only use stored or deflate")
    if len(data) != entry.size or zlib.crc32(data) != entry.crc:
        raise WheelError(f"{label}: {entry.name!r} fails its size/CRC check",
                         hint="the archive is damaged; download it again")
    return data


class LocalHeaderScanner:
    """Find one member while an archive streams in, front to back.

    Used when a server ignores Range: local headers are walked as bytes
    arrive, consumed bytes are dropped, and the caller stops the download as
    soon as the wanted member is complete. This trusts local headers (no
    central directory yet), so it gives up -- :attr:`possible` turns False
    and the caller reads the whole body -- whenever they are not
    self-describing: data descriptors, Zip64 sizes, or anything unexpected.
    """

    def __init__(self, wanted: Callable[[str], bool], label: str) -> None:
        self.wanted = wanted
        self.label = label
        self.possible = True
        self._buf = bytearray()
        self._base = 0  # absolute offset of _buf[0]
        self._skip = 0  # bytes of the current member still to drop

    def feed(self, chunk: bytes) -> bytes | None:
        """Add bytes; returns the member's inflated data once it is complete."""
        if not self.possible:
            return None
        if self._skip:
            dropped = min(self._skip, len(chunk))
            self._skip -= dropped
            self._base += dropped
            chunk = chunk[dropped:]
        self._buf += chunk
        buf = self._buf
        while len(buf) >= LOCAL_SIZE:
            (sig, _, flags, method, _, _, crc, csize, usize, nlen,
             elen) = _LOCAL.unpack_from(buf)
            if sig != LOCAL_SIG or flags & 0x8 or 0xFFFFFFFF in (csize, usize):
                self.possible = False
                return None
            data_start = LOCAL_SIZE + nlen + elen
            if len(buf) < data_start:
                return None
            name = bytes(buf[LOCAL_SIZE:LOCAL_SIZE + nlen]).decode(
                "utf-8" if flags & 0x800 else "cp437")
            if self.wanted(name):
                if len(buf) < data_start + csize:
                    return None
                entry = Entry(name, method, flags, crc, csize, usize, self._base)
                return decompress(bytes(buf[data_start:data_start + csize]), entry, self.label)
            member_end = data_start + csize
            if member_end <= len(buf):
                del buf[:member_end]
                self._base += member_end
            else:
                self._skip = member_end - len(buf)
                self._base += len(buf)
                buf.clear()
        return None


class LocalZip:
    """Read members of a local ZIP with counted, positioned reads.

    The tail read takes the last 64 KiB (enough for the EOCD without a long
    comment and, for most wheels, the whole central directory).
    """

    TAIL = 64 * 1024

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.label = self.path.name
        self.stats = ReadStats()
        self._fh: BinaryIO = self.path.open("rb")
        self.size = self._fh.seek(0, 2)
        self._window = b""
        self._window_offset = self.size
        try:
            self.directory = self._locate()
            self.central = self._central()
        except BaseException:
            self._fh.close()
            raise

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> LocalZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_range(self, start: int, end: int) -> bytes:
        """Read ``[start, end)``; raises WheelError if the file is shorter."""
        self._fh.seek(start)
        data = self._fh.read(end - start)
        self.stats.reads += 1
        self.stats.bytes_read += len(data)
        self.stats.ranges.append((start, end))
        if len(data) != end - start:
            raise WheelError(f"{self.label}: truncated zip archive",
                             hint="the file is shorter than its directory says")
        return data

    def _locate(self) -> Directory:
        start = max(0, self.size - self.TAIL)
        self._window_offset, self._window = start, self.read_range(start, self.size)
        while True:
            try:
                return find_directory(self._window, self._window_offset, self.size, self.label)
            except NeedBytes as need:
                more = self.read_range(need.start, self._window_offset)
                self._window, self._window_offset = more + self._window, need.start

    @property
    def entries(self) -> list[Entry]:
        """All members, decoded (for small archives and tests)."""
        return self.central.entries()

    def _central(self) -> CentralDirectory:
        d = self.directory
        if d.cd_offset + d.cd_size > self.size:
            raise WheelError(f"{self.label}: truncated zip archive",
                             hint="the central directory runs past the end of the file")
        end = d.cd_offset + d.cd_size
        if d.cd_offset < self._window_offset:
            # Build the directory bytes in one copy; the tail window stays as it was
            # (member data lies before the directory, so read() never wants it).
            data = self.read_range(d.cd_offset, min(end, self._window_offset)) \
                + self._window[:max(0, end - self._window_offset)]
        else:
            data = _slice(self._window, self._window_offset, d.cd_offset, end)
        return CentralDirectory(data, d, self.label)

    def read(self, entry: Entry) -> bytes:
        """Read and inflate one member: one read when the local extra field is small."""
        guess = LOCAL_SIZE + len(entry.name.encode()) * 2 + 64
        start = entry.header_offset
        if start >= self._window_offset:
            blob = _slice(self._window, self._window_offset, start,
                          min(self.size, start + guess + entry.compressed_size))
        else:
            blob = self.read_range(start, min(self.size, start + guess + entry.compressed_size))
        data_start, data_end = local_data_span(blob[:LOCAL_SIZE], entry, self.label)
        if data_end > start + len(blob):
            blob = blob + self.read_range(start + len(blob), data_end)
        return decompress(blob[data_start - start:data_end - start], entry, self.label)
