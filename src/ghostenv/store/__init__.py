"""The content-addressed store: every wheel file once on disk, named by its sha256."""

from __future__ import annotations

from ghostenv.store.cas import PruneReport, Store, StoreInfo, VerifyReport
from ghostenv.store.manifest import ManifestFile, WheelManifest

__all__ = ["ManifestFile", "PruneReport", "Store", "StoreInfo", "VerifyReport", "WheelManifest"]
