"""Allow ``python -m ghostenv``."""

from ghostenv.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
