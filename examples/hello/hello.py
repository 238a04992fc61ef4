"""Print where the project's dependencies were imported from."""

import attr
import idna

print(f"hello from {idna.encode('ghostenv.example').decode()} with attrs {attr.__version__}")
