"""The frozen fast path's selection: which locked packages, and which wheel of each.

:func:`select` gives the packages :func:`ghostenv.lock.export.select_packages`
gives, from the lock as plain dicts (:mod:`ghostenv.lock.scan`): starting at the
project (or the workspace members), its default and requested groups and
extras, following only the edges whose marker holds for the interpreter
(:mod:`ghostenv.lock.fast_markers`) -- reaching exactly the packages for which
some path's conjunction of markers holds. :func:`wheel` picks the wheel
:func:`ghostenv.workflow.sources.choose_wheel` picks. Anything they cannot
decide raises :class:`~ghostenv.workflow.frozen_python.Fallback`.
``tests/workflow/test_frozen_select.py`` compares both with the full path on
every lock fixture.
"""

from __future__ import annotations

import os

from ghostenv.workflow.frozen_python import Fallback

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ghostenv.discover.interpreter import Interpreter
    from ghostenv.workflow.plan import Wanted

#: Layout of a selection memo file (bump on any change to what is stored or how it is keyed).
MEMO_FORMAT = 2
#: A uv.lock changed less than this (ns) before it was read is not remembered: a rewrite
#: within the same file system clock tick could keep its size and times (the gate's rule).
RACY_NS = 1_000_000_000


def locked_wheels(project: str, name: str, interpreter: Interpreter, *, groups: list[str],
                  extras: list[str], all_groups: bool, all_extras: bool, cache_dir: str,
                  read: Callable[[str], dict[str, Any]],
                  ) -> tuple[list[Wanted], dict[str, dict[str, Any]]]:
    """The wheels the project's uv.lock gives this selection and interpreter, with each
    wheel's lock package (``{filename: package}``, for the download sizes).

    :func:`select` and :func:`wheel` over the lock that ``read`` parses, remembered
    in ``<cache>/select-v1/``: the answer depends on nothing but the lock's bytes,
    the project name, the groups/extras and the interpreter's marker environment
    and tags, so it is reused while the lock's stat (device, inode, size, mtime and
    ctime, which no tool can set back) and every one of those are equal. A lock
    changed within :data:`RACY_NS` of the read is not remembered. Reading and
    scanning the lock, marker evaluation and wheel picking cost 3-10 ms of a fresh
    sync; the memo ~0.3 ms. Anything unusual raises :class:`Fallback` (never
    remembered).
    """
    if len(interpreter.markers) < 11 or not interpreter.tag_cache:
        raise Fallback
    lock_path = os.path.join(project, "uv.lock")
    st = os.stat(lock_path)
    signature = _signature(st)
    key = (os.path.abspath(project), name, tuple(groups), tuple(extras), all_groups,
           all_extras, tuple(sorted(interpreter.markers.items())), tuple(interpreter.tag_cache))
    memo_path = _memo_path(cache_dir, key, interpreter)
    found = _recall(memo_path, signature, key)
    if found is not None:
        _KNOWN[os.path.abspath(lock_path)] = (signature, found[2])
        return found[0], found[1]
    import time

    started = time.time_ns()
    digest = ""
    if started - st.st_ctime_ns >= RACY_NS:  # its content, for the memo and the gate record
        from ghostenv._fast import read_file, sha256_hex

        digest = sha256_hex(read_file(lock_path))
        if _signature(os.stat(lock_path)) != signature:
            digest = ""  # changed while read: neither remembered nor vouched for
    lock = read(lock_path)
    if lock.get("version") != 1 or lock.get("conflicts") or "distribution" in lock:
        raise Fallback
    packages: list[dict[str, Any]] = lock.get("package", [])
    chosen = select(packages, lock, name, env={**interpreter.markers, "extra": ""},
                    groups=groups, extras=extras, all_groups=all_groups, all_extras=all_extras)
    rank = {tag: i for i, tag in enumerate(interpreter.tag_cache)}
    plats = platforms(rank)
    picked = [_pick(packages[i], rank, plats) for i in chosen]
    wanted = [w for w, _entry in picked]
    if digest:
        _remember(memo_path, signature, key, picked, digest)
        _KNOWN[os.path.abspath(lock_path)] = (signature, digest)
    return wanted, {w.filename: packages[i] for i, w in zip(chosen, wanted, strict=True)}


#: uv.lock path -> (its stat signature, sha256) as :func:`locked_wheels` last knew them.
_KNOWN: dict[str, tuple[tuple[int, ...], str]] = {}


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def lock_input(project: str) -> tuple[str, str] | None:
    """The project's uv.lock as :func:`ghostenv.workflow.gate.record` takes a known input --
    ``(gate stat signature, sha256)`` -- when :func:`locked_wheels` knows its digest and
    the file has not changed since (same dev/ino/size/mtime/ctime, not racy when it was
    hashed); None otherwise (the gate reads and hashes it). Hashing the lock costs ~0.6 ms
    (web) to ~2 ms (data's 460 KB) of every fresh sync's gate record."""
    path = os.path.join(project, "uv.lock")
    known = _KNOWN.get(os.path.abspath(path))
    if known is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    if _signature(st) != known[0]:
        return None
    return f"{st.st_mtime_ns}:{st.st_size}:{st.st_ino}", known[1]


def _memo_path(cache_dir: str, key: tuple[Any, ...], interpreter: Interpreter) -> str:
    from ghostenv._fast import sha256_hex

    name = sha256_hex(repr((*key[:6], interpreter.path_str)).encode())[:32]
    return os.path.join(cache_dir, "select-v1", f"{name}.bin")


def _recall(memo_path: str, signature: tuple[int, ...], key: tuple[Any, ...],
            ) -> tuple[list[Wanted], dict[str, dict[str, Any]], str] | None:
    """The remembered answer when the memo matches the lock's stat and the key exactly."""
    import marshal

    from ghostenv._fast import read_file

    try:
        memo = marshal.loads(read_file(memo_path))
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if (not isinstance(memo, tuple) or len(memo) != 5 or memo[0] != MEMO_FORMAT
            or memo[1] != signature or memo[2] != key or not isinstance(memo[4], str)
            or len(memo[4]) != 64):
        return None
    from ghostenv.workflow.plan import Wanted

    wanted: list[Wanted] = []
    sizes: dict[str, dict[str, Any]] = {}
    try:
        for name, version, filename, url, sha256, entry in memo[3]:
            wanted.append(Wanted(name, version, filename, url=url, sha256=sha256,
                                 requested=True))
            sizes[filename] = {"wheels": [entry]}  # what :func:`size` reads
    except (TypeError, ValueError):
        return None  # not what _remember writes: select again (and write it anew)
    return wanted, sizes, memo[4]


def _remember(memo_path: str, signature: tuple[int, ...], key: tuple[Any, ...],
              picked: list[tuple[Wanted, dict[str, Any] | str]], digest: str) -> None:
    import marshal

    from ghostenv._fast import write_small

    rows = tuple((w.name, w.version, w.filename, w.url, w.sha256, entry) for w, entry in picked)
    try:  # noqa: SIM105 - contextlib costs an import on the fast path
        write_small(memo_path, marshal.dumps((MEMO_FORMAT, signature, key, rows, digest)),
                    make_parent=True)
    except (OSError, ValueError):  # ValueError: an entry marshal cannot write
        pass  # a memo we cannot write only costs the scan next time



def select(packages: list[dict[str, Any]], lock: dict[str, Any], project: str, *,
            env: dict[str, str], groups: list[str], extras: list[str],
            all_groups: bool, all_extras: bool) -> list[int]:
    """Indexes of the packages to install, sorted by name (the roots and virtual
    packages left out), as :func:`ghostenv.lock.export.select_packages`."""
    from ghostenv.lock.fast_markers import Unsupported, canonical_name, evaluate

    by_name: dict[str, list[int]] = {}
    for i, package in enumerate(packages):
        by_name.setdefault(package["name"], []).append(i)
    starts = roots(packages, lock, project)
    seen: set[tuple[int, str | None]] = set()
    queue: list[tuple[int, str | None]] = []

    def add(node: tuple[int, str | None]) -> None:
        if node not in seen:
            seen.add(node)
            queue.append(node)

    for root in starts:
        table = packages[root]
        add((root, None))
        for extra in (list(table.get("optional-dependencies", {})) if all_extras else extras):
            add((root, f"extra:{extra}"))
        for group in (list(table.get("dev-dependencies", {})) if all_groups else groups):
            add((root, f"group:{group}"))
    holds: dict[str, bool] = {}
    while queue:
        index, part = queue.pop()
        table = packages[index]
        if part is None:
            edges = table.get("dependencies", [])
        elif part.startswith("extra:"):
            edges = table.get("optional-dependencies", {}).get(part[6:], [])
        else:
            edges = table.get("dev-dependencies", {}).get(part[6:], [])
        for dep in edges:
            marker = dep.get("marker")
            if marker is not None:
                if marker not in holds:
                    try:
                        holds[marker] = evaluate(marker, env)
                    except Unsupported as exc:
                        raise Fallback from exc
                if not holds[marker]:
                    continue
            target = _target(dep, packages, by_name)
            add((target, None))
            for extra in dep.get("extra", []):
                add((target, f"extra:{extra}"))
    chosen = {index for index, _part in seen} - set(starts)
    out = [i for i in chosen if "virtual" not in packages[i]["source"]]
    for i in out:  # names are compared normalized elsewhere: insist on uv's spelling
        if canonical_name(packages[i]["name"]) != packages[i]["name"]:
            raise Fallback
    return sorted(out, key=lambda i: packages[i]["name"])


def roots(packages: list[dict[str, Any]], lock: dict[str, Any], project: str) -> list[int]:
    """:func:`ghostenv.lock.export.roots` for the project (or the workspace members)."""
    local = [i for i, p in enumerate(packages)
             if "virtual" in p["source"] or "editable" in p["source"]]
    named = [i for i in local if packages[i]["name"] == project]
    if named:
        return named
    members = lock.get("manifest", {}).get("members", [])
    if members:
        return [i for i in local if packages[i]["name"] in members]
    editable_roots = [i for i in local
                      if next(iter(packages[i]["source"].values())) in (".", "")]
    return editable_roots or local[:1]


def _target(dep: dict[str, Any], packages: list[dict[str, Any]],
            by_name: dict[str, list[int]]) -> int:
    """The one package a dependency entry names (uv leaves out version and source when
    the name is unique)."""
    found = by_name.get(dep["name"], [])
    if "version" in dep:
        found = [i for i in found if packages[i].get("version") == dep["version"]]
    if "source" in dep:
        found = [i for i in found if packages[i]["source"] == dep["source"]]
    if len(found) != 1:
        raise Fallback  # missing or ambiguous: the full path reports it
    return found[0]


def platforms(rank: dict[str, int]) -> frozenset[str]:
    """The platform parts of the interpreter's tags (for :func:`wheel`'s quick rejection)."""
    return frozenset(tag.rpartition("-")[2] for tag in rank)


def wheel(package: dict[str, Any], rank: dict[str, int],
          plats: frozenset[str] | None = None) -> Wanted:
    """The package's wheel whose best tag ranks highest (first wins a tie), as
    :func:`ghostenv.workflow.sources.choose_wheel`; no wheel fits: fall back (a build).

    ``plats``: :func:`platforms` of ``rank``; a wheel none of whose platform tags is
    among them is skipped before its tags are spelled out (charset-normalizer locks
    171 wheels, of which a handful fit)."""
    return _pick(package, rank, plats)[0]


def _pick(package: dict[str, Any], rank: dict[str, int], plats: frozenset[str] | None,
          ) -> tuple[Wanted, dict[str, Any] | str]:
    """:func:`wheel`, and the lock's entry for the wheel (as the lock scan gave it)."""
    from ghostenv.lock.scan import artifact
    from ghostenv.workflow.plan import Wanted

    source = package["source"]
    if "registry" not in source and "url" not in source:
        raise Fallback  # git, path, directory, editable: built from source
    version = package["version"]
    best: tuple[int, dict[str, Any] | str, str] | None = None
    for entry in package.get("wheels", []):
        table: dict[str, Any] | None = None
        end = entry.find('"', 13) if isinstance(entry, str) else -1
        if end > 0 and entry.startswith('    { url = "') and entry.startswith('", hash = "', end):
            url = entry[13:end]  # the usual registry line (raw from lock.scan): read if chosen
        else:
            table = artifact(entry) if isinstance(entry, str) else entry
            url = table.get("url")
            if not isinstance(url, str) or "filename" in table or "path" in table:
                raise Fallback
        filename = (url.split("?", 1)[0] if "?" in url else url).rpartition("/")[2]
        parts = filename[:-4].split("-") if filename.endswith(".whl") else []
        if len(parts) not in (5, 6) or parts[1] != version:
            raise Fallback  # the full path validates (or rejects) the name
        plat = parts[-1]
        if plats is not None and plat not in plats and (
                "." not in plat or not any(p in plats for p in plat.split("."))):
            continue
        score = min((rank[tag] for tag in _wheel_tags(parts) if tag in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, entry if table is None else table, filename)
    if best is None:
        raise Fallback  # an sdist to build, or the full path's error
    _score, found, filename = best
    table = artifact(found) if isinstance(found, str) else found
    digest = table.get("hash") or ""
    sha256 = digest[7:].lower() if digest.startswith("sha256:") else None
    return Wanted(package["name"], version, filename, url=table["url"], sha256=sha256,
                  requested=True), found


def size(package: dict[str, Any] | None, filename: str) -> int | None:
    """The locked size of ``package``'s wheel ``filename`` (for the download display)."""
    from ghostenv.lock.scan import artifact

    if package is None:  # the project's own editable wheel
        return None
    for entry in package.get("wheels", []):
        try:
            table = artifact(entry, whole=True) if isinstance(entry, str) else entry
        except ValueError:
            continue  # only a display figure: unknown
        if str(table.get("url", "")).split("?", 1)[0].endswith("/" + filename):
            found = table.get("size")
            return found if isinstance(found, int) else None
    return None


def _wheel_tags(parts: list[str]) -> list[str]:
    return [f"{py}-{abi}-{plat}" for py in parts[-3].split(".") for abi in parts[-2].split(".")
            for plat in parts[-1].split(".")]
