"""Where history lives: the texts a run is matched against besides its own."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

import dedupe
from dedupe.config import Config
from dedupe.history import KnownTexts
from dedupe.history.run_only import RunOnlyHistory
from dedupe.text.boilerplate import shipped
from dedupe.text.normalize import match_key
from tests.conftest import RAW

CREDIT = "Zach Gibson via Getty Images"  # printed once, in one sample article


class FixedHistory:
    """A history that knows a fixed set of texts (what a persistent index will provide)."""

    def __init__(self, known: KnownTexts) -> None:
        self.known = known

    def known_texts(self) -> KnownTexts:
        return self.known


def test_run_only_history_is_the_known_boilerplate_of_the_config():
    known = RunOnlyHistory(Config(boilerplate_extra=("Sign up to our Morning Briefing!",))).known_texts()
    assert known.keys[-1] == "sign up to our morning briefing"
    assert match_key(shipped()[0]) in known.keys
    assert all(known.boilerplate)
    assert RunOnlyHistory(Config(use_known_boilerplate=False)).known_texts() == KnownTexts()


def test_known_texts_must_be_distinct_with_one_flag_each():
    with pytest.raises(ValueError, match="one boilerplate flag per key"):
        KnownTexts(("a b",), ())
    with pytest.raises(ValueError, match="distinct"):
        KnownTexts(("a b", "a b"), (True, True))


def test_a_text_history_knows_as_boilerplate_is_removed(tmp_path, seed_output):
    default = RunOnlyHistory(Config()).known_texts()
    known = KnownTexts(default.keys + (match_key(CREDIT),), default.boilerplate + (True,))
    dedupe.run(RAW, tmp_path / "out", history=FixedHistory(known))
    segs = pq.read_table(tmp_path / "out" / "segments.parquet").to_pylist()
    credit = [s for s in segs if s["text"] == CREDIT]
    assert [(s["role"], s["kept"]) for s in credit] == [("boilerplate", False)]
    before = pq.read_table(seed_output / "segments.parquet").to_pylist()
    assert [s for s in before if s["text"] == CREDIT][0]["role"] == "unique"
    # nothing else changed
    assert sum(not s["kept"] for s in segs) == sum(not s["kept"] for s in before) + 1


def test_a_known_text_that_is_not_boilerplate_changes_nothing(tmp_path, seed_output):
    default = RunOnlyHistory(Config()).known_texts()
    known = KnownTexts(default.keys + (match_key(CREDIT),), default.boilerplate + (False,))
    dedupe.run(RAW, tmp_path / "out", history=FixedHistory(known))
    for name in ("documents.parquet", "segments.parquet", "clusters.parquet"):
        assert (tmp_path / "out" / name).read_bytes() == (seed_output / name).read_bytes(), name
