"""Rates, verdicts and pace on known inputs."""

from __future__ import annotations

import numpy as np
import pytest

from speechcoach.analysis.metrics import pace, speaking_rate, verdict


def test_rate_is_a_stopwatch():
    r = speaking_rate(120, 60.0, 10.0, band=(100, 140))
    assert r.cpm == pytest.approx(120.0, abs=1e-9)
    assert r.articulation_cpm == pytest.approx(144.0, abs=1e-9)
    assert r.verdict == "on_target"


@pytest.mark.parametrize(
    "cpm,expected", [(99.4, "slow"), (99.5, "on_target"), (100, "on_target"), (140, "on_target"), (140.4, "on_target"), (140.5, "fast")]
)
def test_verdict_band_edges(cpm, expected):
    assert verdict(cpm, (100, 140)) == expected


def test_pace_even_speaker():
    t = np.arange(0, 60, 0.5)  # 2 syllables/s = 120 cpm for a minute
    p = pace(t, 0.0, 60.0, window_s=8, hop_s=2)
    assert p.cv < 0.03
    assert abs(p.trend_cpm_per_min) < 3.0
    assert all(w.cpm == pytest.approx(120, abs=8) for w in p.series)
    assert p.series[0].start_s == 0.0 and p.series[-1].end_s == pytest.approx(60.0, abs=1e-9)


def test_pace_speeding_up_is_found_with_its_times():
    t = np.concatenate([np.arange(0, 30, 0.6), np.arange(30, 60, 0.3)])  # 100 then 200 cpm
    p = pace(t, 0.0, 60.0, window_s=8, hop_s=2)
    assert p.trend_cpm_per_min > 100
    assert p.cv > 0.25
    assert p.slowest.end_s <= 30.0 + 1e-9
    assert p.fastest.start_s >= 30.0 - 1e-9
    assert p.fastest.cpm == pytest.approx(200, abs=10)


def test_pace_weight_scales_events_to_characters():
    t = np.arange(0, 20, 0.25)  # 4 nuclei/s, but only half are characters
    p = pace(t, 0.0, 20.0, weight=0.5)
    assert np.mean([w.cpm for w in p.series]) == pytest.approx(120, abs=8)


def test_short_speech_gets_one_window():
    p = pace(np.arange(0, 5, 0.5), 0.0, 5.0, window_s=8)
    assert len(p.series) == 1 and p.window_s == pytest.approx(5.0)


def test_pace_takes_one_weight_per_event():
    t = np.arange(0, 20, 0.25)  # 4 events/s throughout
    w = np.where(t < 10, 1.0, 0.5)  # the second half's events stand for half a character each
    p = pace(t[::-1], 0.0, 20.0, weight=w[::-1], window_s=4, hop_s=2)  # order of the events is free
    first, last = p.series[0], p.series[-1]
    assert first.cpm == pytest.approx(240, abs=15) and last.cpm == pytest.approx(120, abs=15)  # ± one event
    same = pace(t, 0.0, 20.0, weight=np.full(len(t), 0.5))
    assert [s.cpm for s in same.series] == pytest.approx([s.cpm for s in pace(t, 0.0, 20.0, weight=0.5).series], abs=1e-9)


def test_windowed_sums_include_both_ends():
    from speechcoach.analysis.metrics import windowed_sums

    t = np.array([1.0, 2.0, 3.0])
    got = windowed_sums(t, np.array([1.0, 10.0, 100.0]), np.array([1.0, 2.5, 4.0]), np.array([2.0, 3.0, 5.0]))
    assert got.tolist() == [11.0, 100.0, 0.0]


def test_pace_events_are_aligned_characters_with_a_script_else_weighted_nuclei():
    from speechcoach.analysis.alignment import align
    from speechcoach.analysis.pipeline import pace_events

    runs = np.array([[0.0, 2.0], [3.0, 4.0]])
    nuclei = np.array([0.2, 0.6, 1.0, 1.4, 1.8, 3.3, 3.7])
    al = align("一二三四五，六七。", runs, nuclei)
    t, w = pace_events(nuclei, np.ones(len(nuclei)), 7, al)
    assert len(t) == 7 and np.all(w == 1.0) and np.all(np.diff(t) > 0)
    assert int(np.sum(t <= 2.0)) == int(al.run_chars[0])  # each character inside its own run
    t, w = pace_events(nuclei, np.full(len(nuclei), 2.0), 10, None)
    assert np.array_equal(t, nuclei) and w.sum() == pytest.approx(10.0, abs=1e-9)


def test_first_and_last_third_are_counted_from_the_events():
    t = 0.1 + np.concatenate([np.arange(0, 20, 0.6), np.arange(20, 40, 0.4), np.arange(40, 60, 0.3)])  # 100, 150, 200 cpm
    p = pace(t, 0.0, 60.0, window_s=8, hop_s=2)
    assert p.first_third_cpm == pytest.approx(100, abs=3)  # ± one event in 20 s
    assert p.last_third_cpm == pytest.approx(200, abs=3)


@pytest.mark.parametrize(
    "start_cpm,end_cpm,expected",
    # thirds' rates differ by 2/3 of a steady change over the whole recording (less than the old
    # fitted line's ends): 100 -> 130 (thirds 108/126, 16%) and 90 -> 150 (30%) fall just under
    # the note's and the warning's limits, so the cases are 100 -> 135 and 85 -> 160
    [(110, 125, None), (125, 110, None), (100, 135, ("pace_speeds_up", "info")),
     (140, 105, ("pace_slows_down", "info")), (85, 160, ("pace_speeds_up", "warning")), (280, 320, None)],
)
def test_a_drift_is_judged_by_its_change_against_the_band(start_cpm, end_cpm, expected):
    """A 40 s recording whose rate changes steadily: the change from the first to the last third,
    relative to the mean rate, is flagged from the band's half-width relative to the target
    (20/120 for 100-140), a warning from twice that; 280 -> 320 is a small change for that speaker."""
    from speechcoach.analysis.findings import derive
    from speechcoach.settings import Settings

    span = 40.0
    t, now = [], 0.0
    while now < span:  # syllables at an instantaneous rate rising/falling linearly with time
        t.append(now)
        now += 60.0 / (start_cpm + (end_cpm - start_cpm) * now / span)
    p = pace(np.array(t), 0.0, span, window_s=8, hop_s=2)
    first, last = p.first_third_cpm, p.last_third_cpm
    assert last - first == pytest.approx((end_cpm - start_cpm) * 2 / 3, abs=6)  # thirds' middles 1/3 of the span apart x2; +-6 cpm
    rate = speaking_rate(len(t), span, 0.0, band=(100, 140))
    found = derive(rate=rate, pace=p, pauses=(), runs=np.array([[0.0, span]]), run_chars=np.array([len(t)]),
                   span_s=span, settings=Settings(max_run_chars=10_000, max_cv=1.0))
    drift = [(f.id, f.severity) for f in found if f.id.startswith("pace_s")]
    assert drift == ([expected] if expected else [])


def test_long_runs_finding_plays_the_longest_run_it_names():
    from speechcoach.analysis.findings import derive
    from speechcoach.settings import Settings

    runs = np.array([[0.0, 10.0], [11.0, 30.0], [31.0, 36.0]])
    run_chars = np.array([30, 60, 5])  # two runs over the limit of 25; the second is the longest
    t = np.linspace(0.0, 36.0, 95)
    found = derive(rate=speaking_rate(95, 36.0, 2.0, band=(100, 140)), pace=pace(t, 0.0, 36.0, window_s=8, hop_s=2),
                   pauses=(), runs=runs, run_chars=run_chars, span_s=36.0, settings=Settings())
    f = next(f for f in found if f.id == "long_runs")
    assert f.params["longest"] == 60 and f.params["at"] == "0:11.0"
    assert f.start_s == pytest.approx(11.0, abs=1e-9)  # the play button goes where the message says
    assert f.evidence["chars"] == [60, 30]
