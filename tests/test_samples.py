"""The bundled samples: their reports validate and match samples/expected.toml."""

from __future__ import annotations

import json

import jsonschema
import pytest

from speechcoach.characters import count_spoken
from speechcoach.analysis.pipeline import analyze_file
from speechcoach.render.report import to_dict

from .conftest import REPO, SAMPLES

SCHEMA = json.loads((REPO / "docs" / "report-schema.json").read_text(encoding="utf-8"))
NAMES = sorted(p.stem for p in SAMPLES.glob("*.wav"))


@pytest.fixture(scope="module")
def reports() -> dict[str, dict]:
    out = {}
    for name in NAMES:
        script = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")
        out[name] = to_dict(analyze_file(SAMPLES / f"{name}.wav", script=script))
    return out


def test_there_are_enough_samples(expected):
    assert len(NAMES) >= 6
    assert set(NAMES) <= set(expected) - {"meta"}


@pytest.mark.parametrize("name", NAMES)
def test_report_validates(reports, name):
    jsonschema.validate(reports[name], SCHEMA)


@pytest.mark.parametrize("name", NAMES)
def test_count_span_and_rate(reports, expected, name):
    rep, exp = reports[name], expected[name]
    script = (SAMPLES / f"{name}.txt").read_text(encoding="utf-8")
    assert rep["characters"] == {**rep["characters"], "count": exp["chars"], "source": "script"}
    assert count_spoken(script) == exp["chars"]
    # cpm is 60 × count ÷ span, exactly (to the report's rounding)
    assert rep["rate"]["cpm"] == pytest.approx(60 * rep["characters"]["count"] / rep["speech"]["span_s"], abs=0.1)
    # the span the tool measures is the span the generator laid out, within 60 ms
    assert rep["speech"]["span_s"] == pytest.approx(exp["span_s"], abs=0.06)
    assert rep["rate"]["cpm"] == pytest.approx(exp["cpm"], rel=0.01)
    assert rep["rate"]["verdict"] == exp["verdict"]


@pytest.mark.parametrize("name", NAMES)
def test_pauses_match_the_layout(reports, expected, name):
    got = [(p["start_s"], p["end_s"]) for p in reports[name]["pauses"]]
    want = [tuple(p) for p in expected[name]["pauses"]]
    assert len(got) == len(want)
    for (gs, ge), (ws, we) in zip(got, want):
        assert gs == pytest.approx(ws, abs=0.06)  # weak fricative onsets: see samples/README.md
        assert ge == pytest.approx(we, abs=0.06)


def test_findings_point_to_guidance(reports):
    from speechcoach.guidance import catalogue

    ids = set(catalogue("zh"))
    for rep in reports.values():
        assert rep["findings"]
        for f in rep["findings"]:
            assert f["guidance"] in ids
            assert f["message"]


def test_sample_specific_findings(reports):
    assert reports["fast_remote_care"]["findings"][0]["id"] == "rate_fast"
    assert reports["slow_unemployment"]["findings"][0]["id"] == "rate_slow"
    assert "no_pauses" in {f["id"] for f in reports["no_pauses_card_loss"]["findings"]}
    assert "pace_uneven" in {f["id"] for f in reports["uneven_transfer"]["findings"]}
    assert reports["on_target_retirement"]["score"] > reports["fast_remote_care"]["score"]


def test_reading_only_part_of_the_script_is_flagged():
    import soundfile as sf

    from speechcoach.analysis.pipeline import analyze_signal

    y, sr = sf.read(str(SAMPLES / "on_target_retirement.wav"), dtype="float32")
    script = (SAMPLES / "on_target_retirement.txt").read_text(encoding="utf-8")
    partial = to_dict(analyze_signal(y[: 6 * sr], sr, script=script))
    assert "script_mismatch" in {w["id"] for w in partial["warnings"]}
    # half the script read: 63 characters for the first 32 or so (a 2-fold mismatch)
    half = to_dict(analyze_signal(y[: int(15.7 * sr)], sr, script=script, count="acoustic"))
    assert "script_mismatch" in {w["id"] for w in half["warnings"]}
    assert half["characters"]["source"] == "estimate"


def test_full_reading_is_not_flagged(reports):
    for rep in reports.values():
        assert "script_mismatch" not in {w["id"] for w in rep["warnings"]}
