"""PEP 723 scripts: the ``# /// script`` block's dependencies, in a cached environment.

The environment depends on the metadata block only (``dependencies``,
``requires-python``), not on the script's code, so editing the code reuses it.
``requires-python`` picks the interpreter when no ``--python`` was given.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ghostenv.errors import UsageError
from ghostenv.workflow.ephemeral_lookup import remember, script_block, script_key_parts

if TYPE_CHECKING:
    from ghostenv.discover import Interpreter
    from ghostenv.resolve.index_source import IndexSettings


@dataclass(frozen=True, slots=True)
class ScriptMetadata:
    """The parts of a ``# /// script`` block ghostenv uses."""

    dependencies: tuple[str, ...]
    requires_python: str | None


def read_script_metadata(script: Path) -> ScriptMetadata | None:
    """Parse the script's block; None when it has none. Errors name the script."""
    try:
        text = Path(script).read_text("utf-8")
    except OSError as exc:
        raise UsageError(f"{script}: cannot read ({exc.strerror})") from None
    try:
        block = script_block(text)
    except ValueError as exc:
        raise UsageError(f"{script}: {exc}", hint="PEP 723 allows one script block") from None
    if block is None:
        return None
    try:
        doc = tomllib.loads(block)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{script}: the `# /// script` block is not valid TOML: {exc}") from None
    deps = doc.get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise UsageError(f"{script}: `dependencies` must be a list of strings")
    requires = doc.get("requires-python")
    if requires is not None and not isinstance(requires, str):
        raise UsageError(f"{script}: `requires-python` must be a string")
    return ScriptMetadata(tuple(deps), requires)


def script_environment(script: Path, *, interpreter: Interpreter | None,
                       settings: IndexSettings, python_request: str | None = None,
                       log: Callable[[str], None] = lambda _t: None) -> Path:
    """The environment for ``script``'s inline metadata, built once and reused after.

    A script without a block gets an environment with nothing installed (its
    interpreter chosen as usual), so callers need not special-case it.
    """
    from ghostenv.workflow.ephemeral import _cache_dir, materialize, resolve_remembered

    meta = read_script_metadata(script) or ScriptMetadata((), None)
    cache_dir = _cache_dir(settings)
    if interpreter is None:
        from ghostenv.discover import find_interpreter

        interpreter = find_interpreter(python_request or meta.requires_python, cache_dir)
    elif meta.requires_python and python_request is None:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            ok = SpecifierSet(meta.requires_python).contains(interpreter.version_str,
                                                             prereleases=True)
        except InvalidSpecifier:
            raise UsageError(
                f"{script}: invalid requires-python {meta.requires_python!r}") from None
        if not ok:
            raise UsageError(f"{script} requires Python {meta.requires_python}, "
                             f"but {interpreter.path} is {interpreter.version_str}",
                             hint="pass --python with a matching version")
    wanted = (resolve_remembered(list(meta.dependencies), interpreter=interpreter,
                                 settings=settings, cache_dir=cache_dir, log=log)
              if meta.dependencies else [])
    env = materialize(wanted, interpreter=interpreter, base=None, cache_dir=cache_dir,
                      offline=settings.offline, log=log)
    parts = script_key_parts(script)
    if parts is not None:
        remember(parts, python=python_request, base=None, cache_dir=cache_dir, env=env,
                 interpreter=interpreter.path, kind="script")
    return env
