"""ghostenv: instant, incremental Python environments.

This module is imported on every run, including the fast path (``--version``
and the up-to-date gate), so it must import nothing but the standard library.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
