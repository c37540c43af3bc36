"""Script alignment: break kinds, the pause DP, character times; samples and THCHS clips."""

from __future__ import annotations


import numpy as np
import pytest

from speechcoach.analysis.alignment import CLAUSE, NONE, SENTENCE, align, boundary_kinds, char_times, place_pauses
from speechcoach.characters import spoken_units
from speechcoach.analysis.pipeline import analyze_file

from .conftest import CORPUS, SAMPLES

NAMES = sorted(p.stem for p in SAMPLES.glob("*.wav"))


@pytest.fixture(scope="module")
def analyses() -> dict:
    out = {}
    for name in NAMES:
        script = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")
        out[name] = analyze_file(SAMPLES / f"{name}.wav", script=script)
    return out


def test_boundary_kinds_follow_punctuation():
    text = "您好，请带500元。\n明天来"
    units = spoken_units(text)
    kinds = boundary_kinds(text, units)
    assert len(kinds) == len(units) + 1
    by_text = {"".join(u.text for u in units[:b]): int(k) for b, k in enumerate(kinds)}
    assert by_text["您好"] == CLAUSE
    assert by_text["您好请带五"] == NONE  # inside the number 500
    assert by_text["您好请带五百元"] == SENTENCE
    assert kinds[0] == NONE and kinds[-1] == SENTENCE


def test_newline_is_a_sentence_break():
    text = "第一行\n第二行"
    kinds = boundary_kinds(text, spoken_units(text))
    assert kinds[3] == SENTENCE


def test_dp_snaps_pauses_to_punctuation_when_counts_allow():
    kinds = np.array([NONE, NONE, NONE, NONE, SENTENCE, NONE, NONE, CLAUSE, NONE, NONE, SENTENCE])
    # runs of 4, 3 and 3 units, estimated a little off
    got = place_pauses(kinds, np.array([4.6, 2.6, 2.8]))
    assert got.tolist() == [4, 7]


def test_dp_keeps_a_mid_phrase_pause_when_counts_insist():
    kinds = np.zeros(21, dtype=int)
    kinds[10] = SENTENCE
    kinds[20] = SENTENCE
    got = place_pauses(kinds, np.array([5.0, 5.0, 10.0]))
    assert got.tolist() == [5, 10]


def test_pause_length_is_evidence_for_where_it_falls():
    kinds = np.zeros(21, dtype=int)
    kinds[[10, 20]] = SENTENCE
    # 7 of 20 units expected before the pause: a short pause stays inside the phrase when
    # another pause takes the sentence end three units on, a middling or long one goes there
    assert place_pauses(kinds, np.array([7.0, 3.0, 10.0]), np.array([0.3, 1.0])).tolist() == [7, 10]
    e = np.array([7.0, 13.0])
    assert place_pauses(kinds, e, np.array([0.55])).tolist() == [10]
    assert place_pauses(kinds, e, np.array([1.0])).tolist() == [10]
    # alone in the script, a short pause needs less count evidence to stay inside the phrase than
    # a middling one, and a middling one less than a long one (the sentence end it leaves
    # without a pause costs SKIP_SENTENCE_COST)
    e = np.array([6.0, 14.0])
    assert place_pauses(kinds, e, np.array([0.3])).tolist() == [6]
    assert place_pauses(kinds, e, np.array([0.55])).tolist() == [10]
    e = np.array([5.5, 14.5])
    assert place_pauses(kinds, e, np.array([0.55])).tolist() == [5]
    assert place_pauses(kinds, e, np.array([1.0])).tolist() == [10]


def test_a_sentence_end_left_without_a_pause_costs_something():
    """Counts a little off for a stretch do not slip its pauses one sentence early: each
    sentence end the pauses skip costs :data:`SKIP_SENTENCE_COST`."""
    kinds = np.zeros(51, dtype=int)
    kinds[[10, 20, 30, 40, 50]] = SENTENCE
    # five sentences of 10, the third run counted long and the last two short: without the
    # cost the last two pauses slip one sentence on (to 40 and into the fifth sentence at 46)
    assert place_pauses(kinds, np.array([10.1, 8.5, 16.9, 8.6, 6.0])).tolist() == [10, 20, 30, 40]


def test_short_pauses_inside_sentences_do_not_shift_the_alignment():
    """Sentences of similar length with a speaker's own short pause inside each: the sentence
    pauses stay at their own sentence ends (not one sentence earlier, to land the short pauses
    on punctuation)."""
    text = "".join("一二三四五六七八九十十一十二"[: 12] + "。" for _ in range(6))
    units = spoken_units(text)
    kinds = boundary_kinds(text, units)
    # runs: 5 + 7 units per sentence (short pause after the 5th, long one at the end)
    truth = []
    expected = []
    pause_s = []
    for s in range(6):
        truth += [12 * s + 5, 12 * s + 12]
        expected += [5.2, 6.9]
        pause_s += [0.35, 1.2]
    got = place_pauses(kinds, np.array(expected), np.array(pause_s[:-1]))
    assert got.tolist() == truth[:-1]


def test_char_times_fill_runs_in_order():
    runs = np.array([[0.0, 1.0], [2.0, 2.5]])
    start, end = char_times(runs, np.array([0.1, 0.4, 0.8, 2.2]), np.array([3, 1]))
    assert len(start) == 4
    assert np.all(np.diff(start) > 0) and np.all(end > start)
    assert start[0] == pytest.approx(0.0) and end[2] == pytest.approx(1.0)
    assert (start[3], end[3]) == pytest.approx((2.0, 2.5))


def test_char_times_without_nuclei_are_even():
    start, end = char_times(np.array([[1.0, 3.0]]), np.zeros(0), np.array([4]))
    assert start.tolist() == pytest.approx([1.0, 1.5, 2.0, 2.5])


def test_empty_run_gets_no_characters():
    al = align("一二三四五六", np.array([[0.0, 1.5], [1.9, 2.0], [2.4, 3.9]]), np.array([0.1, 0.6, 1.1, 2.5, 3.0, 3.5]))
    assert al.run_chars.tolist() == [3, 0, 3]
    assert len(al.start_s) == 6


@pytest.mark.parametrize("name", NAMES)
def test_alignment_is_monotonic_and_inside_the_speech(analyses, name):
    an = analyses[name]
    al = an.alignment
    assert al is not None and al.n == an.char_count
    assert np.all(np.diff(al.start_s) >= -1e-9)
    assert np.all(al.end_s >= al.start_s)
    assert np.all(np.diff(al.pause_at) >= 0)
    runs = an.segmentation.runs
    assert al.start_s[0] >= runs[0, 0] - 1e-6 and al.end_s[-1] <= runs[-1, 1] + 1e-6
    assert al.run_chars.sum() == al.n


@pytest.mark.parametrize("name", NAMES)
def test_alignment_dict_shape(analyses, name):
    d = analyses[name].alignment.to_dict()
    assert set(d) >= {"method", "sentences", "chars", "missed_breaks", "missed_steps"}
    assert len(d["chars"]) == analyses[name].char_count
    assert set(d["chars"][0]) == {"char", "index", "start_s", "end_s"}
    s = d["sentences"]
    assert s and set(s[0]) == {"text", "start_s", "end_s", "first_char", "last_char"}
    assert all(a["end_s"] <= b["start_s"] + 1e-6 for a, b in zip(s, s[1:]))


def test_alignment_of_a_ten_minute_script():
    """A long script over 200 runs aligns completely (its speed is measured by benchmarks/placement.py)."""
    rng = np.random.default_rng(0)
    script = "。".join("".join("社保医卡办理"[i] for i in rng.integers(0, 6, size=rng.integers(8, 30))) for _ in range(100))
    n = len(spoken_units(script))
    runs_len = rng.uniform(1.0, 5.0, 200)
    gaps = rng.uniform(0.3, 1.0, 200)
    starts = np.cumsum(np.concatenate([[0.5], (runs_len + gaps)[:-1]]))
    runs = np.stack([starts, starts + runs_len], axis=1)
    nuclei = np.sort(rng.uniform(runs[0, 0], runs[-1, 1], int(n * 1.1)))
    al = align(script, runs, nuclei)
    assert al.n == n and len(al.pause_at) == 199
    assert np.all(np.diff(al.start_s) >= -1e-9)


# --- real speech ---------------------------------------------------------------------------
# (The corpus's THCHS TextGrids were tried as word-time truth and found not to match their
# recordings: some of their silences fall on loud speech. Joins of real clips are used instead.)


def _manifest() -> list[dict]:
    import csv

    with open(CORPUS / "manifest.tsv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").is_file(), reason="shared corpus not present")
def test_real_clips_joined_pauses_fall_at_the_joins():
    """Real clips joined with silences: each join's pause is placed after the clip's last character."""
    from speechcoach.audio import load
    from speechcoach.analysis.pipeline import analyze_signal

    rows = {r["id"]: r for r in _manifest()}
    ids = ["csmsc_bz_000003", "sherpa_paraformer_07", "csmsc_bz_000006", "sherpa_paraformer_11", "wenet_nst_ID002"]
    ids = [i for i in ids if i in rows]
    if len(ids) < 3:
        pytest.skip("clips not in the corpus")
    parts, script, joins = [np.zeros(8000, np.float32)], "", []
    for k, cid in enumerate(ids):
        y = load(CORPUS / rows[cid]["file"], sr=16000).samples
        parts += [y, np.zeros(int(16000 * (1.0 + 0.3 * k)), np.float32)]
        text = rows[cid]["transcript"].rstrip()
        text = text if text[-1:] in "。？！" else text.rstrip("，,.") + "。"
        script += text
        joins.append(spoken_units(script)[-1].index)
    an = analyze_signal(np.concatenate(parts), 16000, script=script)
    placed = {p.char_index for p in an.pauses}
    assert set(joins[:-1]) <= placed
    assert not [g for g in an.alignment.missed_breaks if int(an.alignment.index[g - 1]) in joins]
