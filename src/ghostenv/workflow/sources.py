"""Where each locked package's wheel comes from: chosen, downloaded or built.

A registry or URL package is a wheel picked by the interpreter's tag ranking;
a package with only an sdist, a ``path``/``directory``/``editable`` source or a
``git`` source is built through :mod:`ghostenv.build` (cached in the store by
its source) before the environment is touched. Sdists are kept in the store by
their sha256, git checkouts by commit, so neither is fetched twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import BuildError, LockError

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.lock.model import Artifact, Package
    from ghostenv.resolve.index_source import IndexSettings
    from ghostenv.store import Store
    from ghostenv.workflow.plan import Wanted


@dataclass(frozen=True, slots=True)
class Planned:
    """One selected package and the artifact chosen for it (a wheel, or an sdist to build)."""

    name: str
    version: str
    filename: str
    url: str
    sha256: str | None
    sdist: bool = False
    """Build it first: ``url`` names an sdist, or a source directory (``file:``)."""
    size: int | None = None
    editable: bool = False


def normalize(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _artifact_url(artifact: Artifact, base: Path, package: Package | None = None) -> str:
    if artifact.url is not None:
        return artifact.url
    if artifact.path is not None:
        return (base / artifact.path).resolve().as_uri()
    if package is not None and package.source.kind == "path":
        # a `path` source names the file itself; the artifact only carries its file name
        return (base / package.source.value).resolve().as_uri()
    raise LockError(f"uv.lock: artifact {artifact.name} has neither url nor path")


def _digest(artifact: Artifact) -> str | None:
    value = artifact.hash or ""
    return value.split(":", 1)[1].lower() if value.startswith("sha256:") else None


def choose_wheel(package: Package, tags: list[str], base: Path) -> Planned:
    """The wheel of ``package`` whose best tag ranks highest for this interpreter,
    else its sdist (to be built)."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    if package.source.kind in ("directory", "editable"):  # a local project: built from source
        folder = (base / package.source.value).resolve()
        return Planned(package.name, package.version or "", folder.name, folder.as_uri(), None,
                       sdist=True, editable=package.source.kind == "editable")
    if package.source.kind == "git":  # `url?query#commit`: checked out once, then built
        sub = package.source.subdirectory
        return Planned(package.name, package.version or "", package.name,
                       "git+" + package.source.value + (f"&subdirectory={sub}" if sub else ""),
                       None, sdist=True)
    if package.source.kind not in ("registry", "url", "path"):
        raise BuildError(
            f"{package.name}: {package.source.kind} source `{package.source.value}` "
            "cannot be installed yet",
            hint="ghostenv sync installs registry, URL, path and directory sources for now",
        )
    rank = {tag: i for i, tag in enumerate(tags)}
    best: tuple[int, Artifact] | None = None
    for wheel in package.wheels:
        name = wheel.name or ""
        try:
            wheel_tags = parse_wheel_filename(name)[3]
        except InvalidWheelFilename as exc:
            raise LockError(f"uv.lock: {package.name}: bad wheel file name {name!r}") from exc
        score = min((rank[str(t)] for t in wheel_tags if str(t) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    if best is None:
        sdist = package.sdist
        if sdist is not None and (sdist.url is not None or sdist.path is not None
                                  or package.source.kind == "path"):
            return Planned(package.name, package.version or "", sdist.name or "",
                           _artifact_url(sdist, base, package), _digest(sdist), sdist=True,
                           size=sdist.size)
        if package.wheels:
            raise BuildError(
                f"{package.name}=={package.version}: no wheel in uv.lock matches this "
                f"interpreter ({tags[0] if tags else 'no tags'}) and it has no sdist",
                hint="pick another --python",
            )
        raise BuildError(f"{package.name}=={package.version}: uv.lock lists no wheel and no sdist",
                         hint="re-lock with `ghostenv lock`")
    wheel = best[1]
    return Planned(package.name, package.version or "", wheel.name or "",
                   _artifact_url(wheel, base, package), _digest(wheel), size=wheel.size)


def _git_checkout(url: str, store: Store) -> Path:
    """The source tree of a locked git source (``git+URL[?query]#COMMIT``), cloned once into
    ``<store>/git-v1/<commit>`` and shared by every later sync."""
    import shutil
    import subprocess
    from urllib.parse import parse_qs

    spec = url.removeprefix("git+")
    spec, _, commit = spec.partition("#")
    repo, _, query = spec.partition("?")
    subdirectory = parse_qs(query).get("subdirectory", [""])[0] or None
    commit = commit.partition("&")[0]
    if not commit:
        raise LockError(f"uv.lock: git source {spec} names no commit", hint="re-lock")
    target = store.root / "git-v1" / commit
    if not (target / ".ghostenv-complete").is_file():
        temp = target.with_name(f".{commit}.{os.getpid()}.tmp")
        shutil.rmtree(temp, ignore_errors=True)
        temp.parent.mkdir(parents=True, exist_ok=True)
        for command in (["git", "clone", "--quiet", repo, str(temp)],
                        ["git", "-C", str(temp), "checkout", "--quiet", commit]):
            try:
                proc = subprocess.run(command, capture_output=True, text=True, check=False)
            except FileNotFoundError:
                raise BuildError("git is needed to install a git source and was not found",
                                 hint="install git") from None
            if proc.returncode != 0:
                shutil.rmtree(temp, ignore_errors=True)
                raise BuildError(f"{' '.join(command[:3])} {repo}@{commit}: "
                                 f"{proc.stderr.strip().splitlines()[-1:]}",
                                 hint="check the repository URL and that the commit exists")
        (temp / ".ghostenv-complete").write_text(f"{repo}#{commit}\n")
        try:
            os.replace(temp, target)
        except OSError:  # another sync got there first
            shutil.rmtree(temp, ignore_errors=True)
    return target / subdirectory if subdirectory else target


def _fetch_sdist(plan: Planned, store: Store) -> Path:
    """The sdist file of ``plan`` (kept in the store by its sha256; downloaded once)."""
    import hashlib
    from urllib.parse import unquote, urlparse

    if plan.url.startswith("file:"):
        return Path(unquote(urlparse(plan.url).path))
    folder = store.root / "sdists-v1" / (plan.sha256 or hashlib.sha256(
        plan.url.encode()).hexdigest())
    target = folder / plan.filename
    if target.is_file():
        return target
    from ghostenv.build.download import download

    # one downloader for every sdist: streamed, sha256-checked, atomic, ~/.netrc aware
    download(plan.url, target, filename=plan.filename, sha256=plan.sha256)
    return target


def _build_sdist(plan: Planned, interpreter: Interpreter, store: Store,
                 settings: IndexSettings | Callable[[], IndexSettings] | None,
                 progress: Callable[[str], None]) -> Path:
    """A wheel built from ``plan``'s sdist (cached in the store by the sdist's hash)."""
    if settings is None:
        raise BuildError(f"{plan.name}=={plan.version}: uv.lock has only an sdist, and this "
                         "caller gave no index settings to build it with",
                         hint="use `ghostenv sync` for this project")
    from ghostenv.build import build_wheel

    if callable(settings):
        settings = settings()
    sdist = _git_checkout(plan.url, store) if plan.url.startswith("git+") else _fetch_sdist(
        plan, store)
    progress(f"Building {plan.filename}")
    return build_wheel(sdist, interpreter=interpreter, settings=settings, store=store,
                       editable=plan.editable, log=progress)


def wanted_for(plan: Planned, interpreter: Interpreter, store: Store, *,
               settings: IndexSettings | Callable[[], IndexSettings] | None,
               progress: Callable[[str], None]) -> Wanted:
    """The install engine's view of ``plan``: its wheel as locked, or the wheel built for it
    (with PEP 610 ``direct_url`` for directory, editable and git sources)."""
    from ghostenv.workflow.plan import Wanted

    if not plan.sdist:
        return Wanted(plan.name, plan.version, plan.filename, url=plan.url, sha256=plan.sha256,
                      requested=True)
    wheel = _build_sdist(plan, interpreter, store, settings, progress)
    direct: dict[str, object] | None = None
    if plan.url.startswith("file:") and not plan.url.endswith((".tar.gz", ".zip")):
        direct = {"url": plan.url, "dir_info": {"editable": True} if plan.editable else {}}
    elif plan.url.startswith("git+"):
        repo, _, commit = plan.url.removeprefix("git+").partition("#")
        direct = {"url": repo.partition("?")[0],
                  "vcs_info": {"vcs": "git", "commit_id": commit.partition("&")[0]}}
    return Wanted(plan.name, plan.version or wheel.name.split("-")[1], wheel.name, path=wheel,
                  requested=True, direct_url=direct)
