"""``python -m runtime.cli``: the ``asl`` command."""

import sys

from runtime.cli import main

sys.exit(main())
