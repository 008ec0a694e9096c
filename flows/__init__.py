"""Prefect flows and deployments for `dedupe`. Tasks are thin wrappers over library calls.

Importing this package sets Prefect's offline settings (see `settings.py`) unless the
environment already sets them, so it must be imported before `prefect` itself.
"""

from .settings import configure_prefect

configure_prefect()
