"""``python -m skillroute``: the command line, as the ``skillroute`` console script."""

from __future__ import annotations

import sys

from skillroute.cli import main

sys.exit(main())
