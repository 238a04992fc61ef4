"""ghostenv: instant, incremental Python environments.

This module is imported on every run, including the fast path (``--version``
and the up-to-date gate), so it must import nothing but the standard library.

It also puts :class:`_CodeBundle` first on ``sys.meta_path``: the ~25 modules of
a fresh-environment sync (the engine path after the gate) are then loaded from
one marshalled file instead of being looked up and read one by one.
"""

import sys as _sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec, SourceFileLoader
    from types import ModuleType

__version__ = "0.1.0"

__all__ = ["__version__"]

#: Set to a non-empty value other than ``0`` to import every module the usual way.
NO_BUNDLE_VAR = "GHOSTENV_NO_CODE_BUNDLE"
#: The modules a fresh-environment sync imports after the gate (those of the gate and of
#: ``--version`` are not bundled: the no-op paths never read the bundle).
BUNDLED = frozenset({
    "ghostenv.workflow.frozen_python", "ghostenv.workflow.frozen_select",
    "ghostenv.workflow.frozen", "ghostenv.workflow.replay", "ghostenv.workflow.recipe",
    "ghostenv.plugins", "ghostenv.lock", "ghostenv.lock.fast_markers", "ghostenv.lock.scan",
    "ghostenv.discover", "ghostenv.discover.probe", "ghostenv.discover.interpreter",
    "ghostenv.store", "ghostenv.store.jsonlite", "ghostenv.store.record",
    "ghostenv.store.manifest", "ghostenv.store.refs", "ghostenv.store.cas",
    "ghostenv._strenum", "ghostenv.errors", "ghostenv.workflow.plan", "ghostenv.materialize",
    "ghostenv.materialize.venv", "ghostenv.materialize.link", "ghostenv.materialize.batch",
    "ghostenv.materialize.install",
})
#: Imported last by an engine sync: new or refreshed entries are written then.
_LAST = "ghostenv.materialize.install"
_FORMAT = 3


class _CodeBundle:
    """A meta path finder serving :data:`BUNDLED` modules from one file of code objects.

    Importing a module the usual way costs a lookup (``stat`` calls and path
    work in importlib's Python code), an open and read of its ``.pyc`` and
    the unmarshalling; for the ~25 modules of a fresh sync the first two are
    ~2 ms of a ~35 ms command. The bundle (``__pycache__/fastpath.<tag>.bin``
    beside this file, one per optimization level as ``.pyc`` files) holds each
    module's marshalled code with its source's mtime and size -- what a ``.pyc``
    is checked by, at nanoseconds -- and is read once, on the first bundled
    import; a module's code is unmarshalled when that module is imported. An
    entry whose source changed, or is missing, is imported the usual way (the
    normal finders, the ``.pyc``) and refreshed in the bundle, written when an
    engine sync has imported its last module, and at once for a module imported
    after it (never with ``PYTHONDONTWRITEBYTECODE``, as ``.pyc`` files).
    Any trouble here means the usual import: this finder then answers None.
    """

    def __init__(self, path: str, root: str) -> None:
        self.path = path
        self.root = root
        # the bytecode's magic number (as a .pyc), not the full version: patch releases of
        # one Python share the bundle as they share .pyc files
        magic = getattr(_sys.modules.get("_frozen_importlib_external"), "MAGIC_NUMBER", None)
        self.header = (_FORMAT, magic or _sys.version, _sys.flags.optimize, root)
        self.entries: dict[str, tuple[str, bool, int, int, bytes]] | None = None
        self.dirty = False
        self.last_seen = False

    def find_spec(self, name: str, path: "Sequence[str] | None" = None,
                  target: "ModuleType | None" = None) -> "ModuleSpec | None":
        if name not in BUNDLED:
            return None
        try:
            return self._spec(name, path)
        except Exception:  # never break an import: the usual finders answer
            if self.entries:  # (a damaged entry: dropped when the bundle is written next)
                self.entries.pop(name, None)
                self.dirty = True
            return None

    def _spec(self, name: str, path: "Sequence[str] | None") -> "ModuleSpec | None":
        import marshal
        import os

        entries = self.entries
        if entries is None:
            entries = self.entries = {}
            try:
                fd = os.open(self.path, os.O_RDONLY)
                try:
                    data = os.read(fd, os.fstat(fd).st_size + 1)
                finally:
                    os.close(fd)
                doc = marshal.loads(data)  # code objects stay bytes until their module loads
                if isinstance(doc, tuple) and len(doc) == 2 and doc[0] == self.header:
                    entries.update(doc[1])
            except (OSError, EOFError, ValueError, TypeError):
                pass
        found = entries.get(name)
        if found is not None:
            origin, package, mtime, size, blob = found
            try:
                st = os.stat(origin)
            except OSError:
                st = None
            if (st is not None and st.st_mtime_ns == mtime and st.st_size == size
                    and type(blob) is bytes):
                return self._make(name, origin, package, blob)
        # a miss: what the usual finder finds, remembered for the next process
        external = _sys.modules["_frozen_importlib_external"]
        spec: ModuleSpec | None = external.PathFinder.find_spec(name, path)
        source = spec.origin if spec is not None else None
        if (spec is None or type(spec.loader) is not external.SourceFileLoader
                or not isinstance(source, str) or not source.startswith(self.root + os.sep)):
            return spec
        st = os.stat(source)  # before reading: a change meanwhile shows next time
        loader: SourceFileLoader = spec.loader  # type: ignore[assignment]  # (checked above)
        made = loader.get_code(name)
        if made is None:
            return spec
        package = spec.submodule_search_locations is not None
        blob = marshal.dumps(made)
        entries[name] = (source, package, st.st_mtime_ns, st.st_size, blob)
        self.dirty = True
        return self._make(name, source, package, blob)

    def _make(self, name: str, origin: str, package: bool, blob: bytes) -> "ModuleSpec":
        import os

        spec: ModuleSpec = _sys.modules["_frozen_importlib"].ModuleSpec(name, self, origin=origin,
                                                              is_package=package)
        spec.has_location = True  # __file__ and __cached__ as the usual loader sets them
        if package:
            spec.submodule_search_locations = [os.path.dirname(origin)]
        spec.loader_state = blob
        return spec

    def create_module(self, spec: "ModuleSpec") -> None:
        return None  # the default module object

    def exec_module(self, module: "ModuleType") -> None:
        import marshal

        spec = module.__spec__
        assert spec is not None
        blob, spec.loader_state = spec.loader_state, None
        exec(marshal.loads(blob), module.__dict__)  # our own compiled source
        if spec.name == _LAST:
            self.last_seen = True
        if self.dirty and self.last_seen:  # (a module imported later is written at once)
            self.write()

    def write(self) -> None:
        """Replace the bundle file with the entries known now (temp file and rename)."""
        self.dirty = False
        if _sys.dont_write_bytecode or not self.entries:
            return
        import marshal
        import os

        temp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                data = marshal.dumps((self.header, self.entries))  # (a read-only install
                # fails at the open above, before this costs anything)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(temp, self.path)
        except (OSError, ValueError):
            try:  # noqa: SIM105 - contextlib costs an import here
                os.unlink(temp)
            except OSError:
                pass


def _install_bundle() -> None:
    import os

    tag = _sys.implementation.cache_tag
    if (tag is None or _sys.implementation.name != "cpython"
            or os.environ.get(NO_BUNDLE_VAR, "") not in ("", "0")
            or any(isinstance(finder, _CodeBundle) for finder in _sys.meta_path)):
        return
    root = os.path.dirname(os.path.abspath(__file__))
    level = _sys.flags.optimize  # -O and -OO compile other code: their own bundle
    name = f"fastpath.{tag}.opt-{level}.bin" if level else f"fastpath.{tag}.bin"
    _sys.meta_path.insert(0, _CodeBundle(os.path.join(root, "__pycache__", name), root))


_install_bundle()
