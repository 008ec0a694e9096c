"""`python -m dedupe`: the `dedupe` command."""

from .cli import entry

entry()
