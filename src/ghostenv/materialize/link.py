"""Putting a store object at a path in an environment: clone, hardlink, copy or symlink.

A reflink clone (Linux ``FICLONE``, macOS ``clonefile``) shares blocks with the
store yet is a separate inode, so editing the environment never edits the
store: it is the best mode where the filesystem has it. A hardlink costs no
blocks either but shares the inode (store objects are read-only for that
reason). A copy always works. Which of these a (store filesystem, target
filesystem) pair supports is found by trying the first file and remembered,
and a fallback is reported once, not once per file.
"""

from __future__ import annotations

import errno
import os
import sys

from ghostenv._fast import suppress

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# enum costs ~2 ms to import, a twentieth of a fresh-environment sync: a look-alike
# (type checkers see the real StrEnum)
if TYPE_CHECKING:
    from enum import StrEnum
else:
    from ghostenv._strenum import StrEnum

FICLONE = 0x40049409  # _IOW(0x94, 9, int) from linux/fs.h
ENV_VAR = "GHOSTENV_LINK_MODE"
#: errno values meaning "this filesystem (pair) cannot do that", not a real failure.
_UNSUPPORTED = {errno.EXDEV, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOTTY,
                errno.ENOSYS, errno.EPERM, errno.EMLINK, errno.EBADF}


class LinkMode(StrEnum):
    """How a file gets from the store into an environment."""

    CLONE = "clone"
    HARDLINK = "hardlink"
    COPY = "copy"
    SYMLINK = "symlink"


StrPath = str | os.PathLike[str]


def clone_file(src: StrPath, dst: StrPath) -> None:
    """Reflink ``src`` to a new file ``dst``; OSError when the filesystem cannot."""
    if sys.platform == "darwin":
        _clonefile_macos(src, dst)
        return
    if not sys.platform.startswith("linux"):
        raise OSError(errno.EOPNOTSUPP, "reflink is only implemented on Linux and macOS")
    import fcntl

    with open(src, "rb") as source:
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            fcntl.ioctl(fd, FICLONE, source.fileno())
        except OSError:
            os.close(fd)
            os.unlink(dst)
            raise
        os.close(fd)


def _clonefile_macos(src: StrPath, dst: StrPath) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.clonefile(os.fsencode(src), os.fsencode(dst), 0) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(dst))


def copy_file(src: StrPath, dst: StrPath) -> None:
    """Copy bytes in the kernel where possible (``copy_file_range``, then ``sendfile``)."""
    with open(src, "rb") as source, open(dst, "xb") as target:
        size = os.fstat(source.fileno()).st_size
        infd, outfd = source.fileno(), target.fileno()
        done = 0
        with suppress(OSError, AttributeError):
            while done < size:
                n = os.copy_file_range(infd, outfd, size - done)
                if n == 0:
                    break
                done += n
        if done < size:
            with suppress(OSError):
                while done < size:
                    n = os.sendfile(outfd, infd, done, size - done)
                    if n == 0:
                        break
                    done += n
        if done < size:
            source.seek(done)
            target.seek(done)
            while block := source.read(1 << 20):
                target.write(block)
    os.chmod(dst, os.stat(src).st_mode & 0o7777)
    os.chmod(dst, os.stat(dst).st_mode | 0o200)  # store objects are read-only; copies are not


def place(src: StrPath, dst: StrPath, mode: LinkMode) -> None:
    """Put ``src`` at ``dst`` with exactly ``mode``; an existing ``dst`` is replaced."""
    try:
        _place(src, dst, mode)
    except FileExistsError:
        os.unlink(dst)
        _place(src, dst, mode)


def _place(src: StrPath, dst: StrPath, mode: LinkMode) -> None:
    if mode is LinkMode.CLONE:
        clone_file(src, dst)
        os.chmod(dst, 0o644)
    elif mode is LinkMode.HARDLINK:
        os.link(src, dst)
    elif mode is LinkMode.SYMLINK:
        os.symlink(os.path.abspath(src), dst)
    else:
        copy_file(src, dst)


def mode_from_env() -> LinkMode | None:
    """``GHOSTENV_LINK_MODE`` as a mode (None when unset); ValueError names bad values.

    A name that is not a built-in mode but a plugin provides is returned by
    :func:`plugin_mode`, not here (here it is None: the default chain).
    """
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if not value:
        return None
    try:
        return LinkMode(value)
    except ValueError:
        if plugin_mode(value) is not None:
            return None
        choices = ", ".join(m.value for m in LinkMode)
        raise ValueError(f"{ENV_VAR}={value!r} is not one of {choices}") from None


def plugin_mode(name: str) -> Callable[[Path, Path], None] | None:
    """A plugin's ``place(src, dst)`` for a link mode name ghostenv does not have itself.

    Only consulted for unknown names, so the usual path never loads the plugin machinery.
    """
    try:
        LinkMode(name)
    except ValueError:
        pass
    else:
        return None
    from ghostenv import plugins

    return plugins.link_mode(name)


def _chain(requested: LinkMode | None) -> tuple[LinkMode, ...]:
    if requested is None:
        return (LinkMode.CLONE, LinkMode.HARDLINK, LinkMode.COPY)
    if requested is LinkMode.CLONE:
        return (LinkMode.CLONE, LinkMode.COPY)
    if requested is LinkMode.HARDLINK:
        return (LinkMode.HARDLINK, LinkMode.COPY)
    return (requested,)


def _flat_json(text: str) -> dict[str, str] | None:
    """``{"a": "b", "c": "d"}`` of plain strings (what :meth:`Linker._save` writes), read
    without the JSON decoder (an extension module to load on every fresh sync); None for
    anything else (escapes, nesting, other values), which the real decoder reads."""
    body = text.strip()
    if not (body.startswith("{") and body.endswith("}")) or "\\" in body:
        return None
    body = body[1:-1].strip()
    out: dict[str, str] = {}
    if not body:
        return out
    for item in body.split(", "):
        key, sep, value = item.partition(": ")
        if (not sep or len(key) < 2 or len(value) < 2 or key[0] != '"' or key[-1] != '"'
                or value[0] != '"' or value[-1] != '"' or '"' in key[1:-1]
                or '"' in value[1:-1]):
            return None
        out[key[1:-1]] = value[1:-1]
    return out


class Linker:
    """Links files with the best working mode per (source fs, target fs) pair.

    ``requested=None`` means the default chain clone -> hardlink -> copy (unless
    ``GHOSTENV_LINK_MODE`` says otherwise). An explicit ``clone`` or ``hardlink``
    still falls back to ``copy`` where the filesystem refuses, and says so once
    through ``on_fallback``.
    """

    def __init__(self, requested: LinkMode | str | None = None,
                 on_fallback: Callable[[str], None] | None = None, *,
                 memo: str | os.PathLike[str] | None = None) -> None:
        #: A plugin's place function when ``requested`` (or GHOSTENV_LINK_MODE) names one.
        self.custom: Callable[[Path, Path], None] | None = None
        if isinstance(requested, str) and not isinstance(requested, LinkMode):
            try:
                requested = LinkMode(requested)
            except ValueError:
                self.custom = plugin_mode(requested)
                if self.custom is None:
                    choices = ", ".join(m.value for m in LinkMode)
                    raise ValueError(f"link mode {requested!r} is not one of {choices} "
                                     "(nor provided by a plugin)") from None
                requested = None
        elif requested is None:
            env_name = os.environ.get(ENV_VAR, "").strip().lower()
            if env_name and env_name not in {m.value for m in LinkMode}:
                self.custom = plugin_mode(env_name)
        self.requested = requested if requested is not None else mode_from_env()
        self.on_fallback = on_fallback
        self._known: dict[tuple[int, int, tuple[LinkMode, ...]], LinkMode] = {}
        self.fallbacks: list[str] = []
        self._devs: dict[str, int] = {}
        self._memo = memo
        if memo is not None:
            self._load(memo)

    def _load(self, memo: str | os.PathLike[str]) -> None:
        """Probe results of earlier runs: ``{"dev:dev:chain": mode}`` (bad files are ignored)."""
        try:
            with open(memo, encoding="utf-8") as handle:
                text = handle.read()
            doc = _flat_json(text)
            if doc is None:
                from ghostenv.store import jsonlite

                doc = jsonlite.loads(text)
            for key, value in doc.items():
                src, dst, chain = key.split(":", 2)
                modes = tuple(LinkMode(m) for m in chain.split(","))
                self._known[(int(src), int(dst), modes)] = LinkMode(value)
        except (OSError, ValueError, AttributeError):
            return

    def _save(self) -> None:
        """Remember the probes per (store fs, target fs) pair, so the next run skips them."""
        if self._memo is None:
            return
        import json
        from pathlib import Path

        from ghostenv.fsutil import write_atomic

        doc = {f"{s}:{d}:{','.join(m.value for m in chain)}": mode.value
               for (s, d, chain), mode in self._known.items()}
        with suppress(OSError):
            write_atomic(Path(self._memo), json.dumps(doc, sort_keys=True).encode())

    def link(self, src: StrPath, dst: StrPath, *, writable: bool = False) -> LinkMode:
        """Place ``src`` at ``dst``; returns the mode that was used.

        ``writable`` (e.g. an executable that needs its own mode bits) rules
        out hardlinks and symlinks, which share the store's inode. A plugin's
        mode is reported as ``copy`` (it makes a file of its own).
        """
        if self.custom is not None:
            with suppress(FileNotFoundError):
                os.unlink(dst)
            from pathlib import Path

            self.custom(Path(src), Path(dst))
            return LinkMode.COPY
        chain = _chain(self.requested)
        if writable:
            chain = tuple(m for m in chain if m in (LinkMode.CLONE, LinkMode.COPY)) or (
                LinkMode.COPY,)
        key = (self._dev(os.path.dirname(src)), self._dev(os.path.dirname(dst)), chain)
        known = self._known.get(key)
        tries = chain[chain.index(known):] if known is not None else chain
        first_error: OSError | None = None
        for mode in tries:
            try:
                place(src, dst, mode)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or mode is tries[-1]:
                    raise
                first_error = first_error or exc
                continue
            if known is None:
                self._known[key] = mode
                self._save()
                if mode is not chain[0]:
                    self._report(chain[0], mode, first_error)
            elif mode is not known:
                self._known[key] = mode  # the filesystem changed since it was probed
                self._save()
            return mode
        raise AssertionError("unreachable: the last mode either worked or raised")

    def known(self, src_dir: StrPath, dst_dir: StrPath) -> LinkMode | None:
        """The mode plain files from ``src_dir`` into ``dst_dir`` get, if already probed.

        None before the first probe of that filesystem pair, and for a plugin's
        mode (its files go through :meth:`link` one by one).
        """
        if self.custom is not None:
            return None
        key = (self._dev(os.fspath(src_dir)), self._dev(os.fspath(dst_dir)),
               _chain(self.requested))
        return self._known.get(key)

    def _dev(self, directory: str) -> int:
        """The device of a directory, remembered: one stat per directory, not per file."""
        dev = self._devs.get(directory)
        if dev is None:
            dev = self._devs[directory] = os.stat(directory or ".").st_dev
        return dev

    def _report(self, wanted: LinkMode, used: LinkMode, error: OSError | None) -> None:
        reason = os.strerror(error.errno) if error is not None and error.errno else "unsupported"
        text = f"{wanted.value} not possible here ({reason}); fell back to {used.value}"
        self.fallbacks.append(text)
        if self.on_fallback is not None:
            self.on_fallback(text)
