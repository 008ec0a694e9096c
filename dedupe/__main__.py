"""`python -m dedupe`: the `dedupe` command."""

import sys

from .cli import main

sys.exit(main())
