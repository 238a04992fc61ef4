"""pyproject.toml -> a frozen Project (dependencies, extras, groups, requires-python, indexes)."""
