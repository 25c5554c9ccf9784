"""``python -m core ...``: see ``core.cli``."""

import sys

from .cli import main

sys.exit(main())
