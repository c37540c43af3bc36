"""The rough edges a new user met: check passing a problem, fillers judged over a 4-second clip,
"越讲越慢" when the middle was the slowest, and "停顿 0 次（最长 0.0 秒）".

check runs on a real recording (a sample, slowed down); the drift and filler rules, pure
functions of event times and filler lists, on arrays made for the case.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from speechcoach.analysis.findings import FILLER_MIN_COUNT, FILLER_MIN_SPEECH_S, derive, precise_findings
from speechcoach.analysis.metrics import pace, speaking_rate
from speechcoach.app.cli import app
from speechcoach.precise.fillers import Filler
from speechcoach.settings import PROBLEM_FINDINGS, Settings

from .conftest import SAMPLES

runner = CliRunner()


@pytest.fixture(scope="module")
def slow_no_pauses(tmp_path_factory):
    """samples/no_pauses_card_loss played at 72 % speed, like a slowed tape (the issue slowed it
    with ffmpeg's atempo=0.72): 28 s of speech, in the band, without a single pause; its report
    says "✗ no pause in 28 s"."""
    import soxr

    y, sr = sf.read(str(SAMPLES / "no_pauses_card_loss.wav"), dtype="float32")
    slow = soxr.resample(y, sr, sr / 0.72)  # the same samples, played back at sr: 1/0.72 times as long
    folder = tmp_path_factory.mktemp("slow")
    wav = folder / "slow.wav"
    sf.write(str(wav), slow, sr, subtype="PCM_16")
    (folder / "slow.txt").write_text((SAMPLES / "no_pauses_card_loss.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return wav


def test_check_fails_a_recording_whose_report_has_a_problem(slow_no_pauses, tmp_path):
    res = runner.invoke(app, ["analyze", str(slow_no_pauses), "--count", "acoustic", "-f", "json", "--lang", "en"])
    import json

    report = json.loads(res.stdout)
    problems = [f["id"] for f in report["findings"] if f["severity"] == "problem"]
    assert problems == ["no_pauses"] and report["rate"]["verdict"] == "on_target" and report["pauses"] == []
    res = runner.invoke(app, ["check", str(slow_no_pauses), "--count", "acoustic", "--lang", "en", "--junit", str(tmp_path / "j.xml")])
    assert res.exit_code == 1, res.output
    assert res.stdout.startswith(f"FAIL {slow_no_pauses}: For 28 seconds there is not a single pause"), res.stdout
    assert 'type="problems"' in (tmp_path / "j.xml").read_text(encoding="utf-8")
    # a course that accepts it says so in its rubric
    rubric = tmp_path / "rubric.toml"
    rubric.write_text('[check]\nallow_problems = ["no_pauses"]\n', encoding="utf-8")
    res = runner.invoke(app, ["check", str(slow_no_pauses), "--count", "acoustic", "--lang", "en", "--rubric", str(rubric)])
    assert res.exit_code == 0 and res.stdout.startswith(f"PASS {slow_no_pauses}: "), res.output
    # with no pause, the summary says so: not "pauses: 0 (longest 0.0 s)"
    assert ", no pauses, " in res.stdout and "longest 0.0" not in res.stdout
    res = runner.invoke(app, ["check", str(slow_no_pauses), "--count", "acoustic", "--lang", "zh", "--rubric", str(rubric)])
    assert "，没有停顿，" in res.stdout and "最长 0.0 秒" not in res.stdout, res.stdout


def test_a_rubric_names_only_findings_that_can_be_problems(tmp_path):
    assert Settings(allow_problems=["fillers", "fillers"]).allow_problems == ("fillers",)
    rubric = tmp_path / "rubric.toml"
    for text, message in (
        ('[check]\nallow_problems = ["filler"]\n', "[check] allow_problems 'filler' is not a finding that can be a problem; did you mean 'fillers'?"),
        ('[check]\nallow_problems = "fillers"\n', '[check] allow_problems must be a list of finding names such as ["fillers"], got the text "fillers"'),
    ):
        rubric.write_text(text, encoding="utf-8")
        res = runner.invoke(app, ["check", str(SAMPLES / "on_target_retirement.wav"), "--rubric", str(rubric), "--lang", "en"])
        assert res.exit_code == 2 and res.stderr.strip() == f"speechcoach: error: {rubric}: {message}", res.stderr
    import tomllib

    from .conftest import REPO

    example = tomllib.loads((REPO / "examples" / "rubric.toml").read_text(encoding="utf-8"))
    assert example["check"]["allow_problems"] == [] and set(PROBLEM_FINDINGS) >= {"no_pauses", "fillers"}


def _events(rates_cpm: list[float], third_s: float) -> np.ndarray:
    """Syllable times at a steady rate within each third."""
    t: list[float] = []
    for k, cpm in enumerate(rates_cpm):
        t.extend(np.arange(k * third_s, (k + 1) * third_s, 60.0 / cpm) + 0.05)
    return np.array(t)


@pytest.mark.parametrize(
    "thirds,named",
    [([218, 150, 171], None),  # slowest in the middle: not "越讲越慢" (the case)
     ([150, 220, 185], None),  # fastest in the middle: not "越讲越快"
     ([218, 195, 171], "pace_slows_down"),
     ([150, 170, 200], "pace_speeds_up")],
)
def test_a_drift_is_named_only_when_the_middle_lies_between(thirds, named):
    third = 20.0
    t = _events(thirds, third)
    p = pace(t, 0.0, 3 * third, window_s=8, hop_s=2)
    assert p.middle_third_cpm == pytest.approx(thirds[1], abs=4)  # ± one event in 20 s
    found = derive(rate=speaking_rate(len(t), 3 * third, 0.0, band=(100, 140)), pace=p, pauses=(), runs=np.array([[0.0, 3 * third]]),
                   run_chars=np.array([len(t)]), span_s=3 * third, settings=Settings(max_run_chars=10_000, max_cv=2.0))
    drift = [f.id for f in found if f.id in ("pace_slows_down", "pace_speeds_up")]
    assert drift == ([named] if named else [])


def _fillers(n: int, every_s: float = 1.0) -> tuple[Filler, ...]:
    return tuple(Filler("那", 1.0 + k * every_s, 1.3 + k * every_s, "lexical") for k in range(n))


@pytest.mark.parametrize(
    "n,speech_s,flagged",
    [(1, 4.0, False),  # the case: one 那 in a 4 s clip is not "about 14.3 a minute"
     (2, 20.0, False),  # 6 a minute, but two fillers in 20 s are too few to make a rate of
     (FILLER_MIN_COUNT, 4.0, True),  # three are enough, however short the clip
     (3, FILLER_MIN_SPEECH_S, True),  # 6 a minute over 30 s
     (1, FILLER_MIN_SPEECH_S, False)],  # 2 a minute: under the limit of 4
)
def test_a_filler_rate_is_judged_only_over_enough_speech(n, speech_s, flagged):
    found = precise_findings(fillers=_fillers(n), speech_s=speech_s, max_fillers_per_minute=4.0)
    assert [f.id for f in found] == (["fillers"] if flagged else [])
