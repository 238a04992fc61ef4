"""Project workflows: the commands users run every day (``sync``), wired from the stages.

Each module here only composes parts that live elsewhere (project and lock
readers, interpreter discovery, venv writer, store, installer); logic that
could be reused by another command belongs in those stages, not here.
"""
