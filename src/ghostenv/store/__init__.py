"""The content-addressed store: every wheel file once on disk, named by its sha256.

Names are loaded on first use (PEP 562), so ``import ghostenv.store.record`` or
``ghostenv.store.manifest`` does not pay for the whole store.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs milliseconds; type checkers treat this name as true
if TYPE_CHECKING:
    from ghostenv.store.cas import PruneReport, Store, StoreInfo, VerifyReport
    from ghostenv.store.manifest import LinkIndex, ManifestFile, WheelManifest

__all__ = ["LinkIndex", "ManifestFile", "PruneReport", "Store", "StoreInfo", "VerifyReport",
           "WheelManifest"]


def __getattr__(name: str) -> object:
    if name in ("PruneReport", "Store", "StoreInfo", "VerifyReport"):
        from ghostenv.store import cas

        return getattr(cas, name)
    if name in ("LinkIndex", "ManifestFile", "WheelManifest"):
        from ghostenv.store import manifest

        return getattr(manifest, name)
    raise AttributeError(f"module 'ghostenv.store' has no attribute {name!r}")
