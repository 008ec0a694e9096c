"""History of this run only: nothing from earlier runs, plus the known-boilerplate list."""

from __future__ import annotations

from ..config import Config
from ..text.boilerplate import known_keys
from . import KnownTexts


class RunOnlyHistory:
    """Matches a run against itself and the known boilerplate lines its config enables."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def known_texts(self) -> KnownTexts:
        keys = tuple(known_keys(self.config))
        return KnownTexts(keys, (True,) * len(keys))
