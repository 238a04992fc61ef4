"""The content-addressed store: every wheel file once on disk, named by its sha256."""

from __future__ import annotations

from ghostenv.store.cas import Store, StoreInfo, VerifyReport
from ghostenv.store.manifest import ManifestFile, WheelManifest

__all__ = ["ManifestFile", "Store", "StoreInfo", "VerifyReport", "WheelManifest"]
