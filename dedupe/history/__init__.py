"""Where history lives: what a run's input is matched against besides itself.

A `History` gives the texts known before this run. The corpus stage adds them after the run's
own texts, so its segments are matched against them exactly as against each other (LSH, then
exact verification); a group that holds a text history knows as boilerplate is boilerplate.

Today's history (`history.run_only`) is this run alone plus the known-boilerplate list of the
config (the shipped list, `boilerplate_extra`, `boilerplate_file`). A persistent history (an
index of every earlier run's texts and articles) is a new module implementing the same
protocol.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class KnownTexts:
    """Texts known before the run, as distinct match keys (`text.normalize.match_key`)."""

    keys: tuple[str, ...] = ()
    boilerplate: tuple[bool, ...] = ()
    """Per key: history knows it as boilerplate (every group that holds it is boilerplate)."""

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.boilerplate):
            raise ValueError("KnownTexts: one boilerplate flag per key")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError("KnownTexts: keys must be distinct")


class History(Protocol):
    """The texts a run is matched against besides its own."""

    def known_texts(self) -> KnownTexts:
        ...
