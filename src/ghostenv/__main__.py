"""Allow ``python -m ghostenv``."""

from ghostenv.entry import main

if __name__ == "__main__":
    raise SystemExit(main())
