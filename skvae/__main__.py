"""``python -m skvae``: see :mod:`skvae.cli`."""

import sys

from skvae.cli import main

if __name__ == "__main__":
    sys.exit(main())
