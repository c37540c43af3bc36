"""The passage builder of the benchmarks: deterministic, and its truth is self-consistent.

Skipped when the shared corpus (``../shared/corpus/real``) is absent.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.corpus import corpus_dir, missing_message
from speechcoach.characters import count_spoken, is_cjk

pytestmark = pytest.mark.skipif(corpus_dir() is None, reason=missing_message())

SHORT = (15.0, 25.0)


@pytest.fixture(scope="module")
def passages():
    from benchmarks.passages import build_passages

    return build_passages(n=3, seed=11, length_s=SHORT)


def test_same_seed_same_passage(passages) -> None:
    from benchmarks.passages import build_passages

    again = build_passages(n=1, seed=11, length_s=SHORT)[0]
    assert np.array_equal(again.y, passages[0].y)
    assert again.script == passages[0].script
    assert again.pauses == passages[0].pauses


def test_truth_is_consistent(passages) -> None:
    for p in passages:
        assert p.y.dtype == np.float32 and p.sr == 16_000
        assert p.n_chars == count_spoken(p.script)
        assert 0.0 < p.span[0] < p.span[1] < p.duration_s
        assert len(p.pauses) == len(p.pause_char_index) == len(p.cut_exact) == len(p.speech) - 1
        edges = [p.span[0]] + [t for a, b, _ in p.pauses for t in (a, b)] + [p.span[1]]
        assert edges == sorted(edges)
        for (a, b, kind), ci in zip(p.pauses, p.pause_char_index):
            assert kind in ("sentence", "mid_phrase")
            assert b - a >= 0.3
            assert is_cjk(p.script[ci])


def test_piece_chars_split_the_count_at_the_pauses(passages) -> None:
    for p in passages:
        pieces = p.piece_chars()
        assert len(pieces) == len(p.speech) and sum(pieces) == p.n_chars and min(pieces) > 0


def test_joins_are_sentence_ends_and_cuts_are_not(passages) -> None:
    for p in passages:
        for (_, _, kind), ci in zip(p.pauses, p.pause_char_index):
            after = p.script[ci + 1 : ci + 2]
            if kind == "sentence":
                assert after in set("。？！?!")
            else:
                assert after and is_cjk(after)


def test_pauses_are_quiet_and_speech_is_not(passages) -> None:
    from benchmarks.passages import frame_levels

    for p in passages:
        lev = frame_levels(p.y, p.sr)
        t = np.arange(len(lev)) * 0.010 + 0.0125
        speech = np.zeros(len(lev), bool)
        for a, b in p.speech:
            speech |= (t > a) & (t < b)
        quiet = np.zeros(len(lev), bool)
        for a, b, _ in p.pauses:
            quiet |= (t > a + 0.05) & (t < b - 0.05)
        assert np.percentile(lev[speech], 90) - np.percentile(lev[quiet], 90) > 15.0
