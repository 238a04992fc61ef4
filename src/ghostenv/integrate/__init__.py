"""Machinery shared by the tool integrations (nox backend, tox plugin).

``stamp``: fingerprints of install steps recorded inside an environment, so a
re-run with nothing changed does no work. ``steps``: the two steps the tools
perform -- install requirements through ``ghostenv install`` and materialize
the project's locked groups from uv.lock -- each behind a stamp.
Neither imports nox or tox.
"""
