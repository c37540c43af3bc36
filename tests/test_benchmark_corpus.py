"""The benchmarks read a corpus nobody here has seen: unusable rows are left out with a reason.

A tiny corpus is written to a temporary folder (synthetic tones; no shared corpus needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.corpus import SR, CorpusError, read_corpus

HEADER = "id\tfile\tsource_repo\ttranscript\tduration_s\talignment_file\n"


def _tone(path: Path, seconds: float, sr: int = SR, channels: int = 1) -> None:
    t = np.arange(int(seconds * sr)) / sr
    y = (0.2 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    sf.write(path, np.tile(y[:, None], (1, channels)) if channels > 1 else y, sr)


def test_unusable_rows_are_skipped_with_a_reason(tmp_path: Path) -> None:
    _tone(tmp_path / "a.wav", 1.0)
    _tone(tmp_path / "b.flac", 2.0, sr=44_100, channels=2)
    (tmp_path / "c.wav").write_text("not audio")
    rows = [
        "a\ta.wav\trepo1\t你好。\t1.0\t",
        "b\tb.flac\t\t大家好\t\t",  # no source, no duration: defaults
        "c\tc.wav\trepo1\t坏文件\t1.0\t",  # text, not audio
        "d\tmissing.wav\trepo2\t没有\t1.0\t",  # no such file
        "e\ta.wav\trepo2\t……\t1.0\t",  # nothing spoken
        "a\ta.wav\trepo1\t重复\t1.0\t",  # id twice
    ]
    (tmp_path / "manifest.tsv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")

    clips, audio, skipped = read_corpus(tmp_path)

    assert [c.id for c in clips] == ["a", "b"]
    b = clips[1]
    assert b.source == "unknown"
    assert b.n_chars == 3
    assert b.duration_s == pytest.approx(2.0, abs=0.01)  # measured, to 10 ms
    assert audio["b"].ndim == 1 and len(audio["b"]) == pytest.approx(2.0 * SR, abs=SR // 100)
    reasons = {s.id: s.reason for s in skipped}
    assert set(reasons) == {"c", "d", "e", "a"}
    assert reasons["c"].startswith("c.wav: ")
    assert reasons["d"].startswith("missing.wav: ")
    assert "nothing spoken" in reasons["e"]
    assert "twice" in reasons["a"]
    assert all("\n" not in r for r in reasons.values())


def test_a_manifest_without_a_needed_column_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.tsv").write_text("id\tfile\nx\tx.wav\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"manifest\.tsv: no column 'transcript'"):
        read_corpus(tmp_path)


def test_a_corpus_with_no_usable_clip_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.tsv").write_text(HEADER + "x\tx.wav\trepo\t你好\t1.0\t\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"manifest\.tsv: no usable clip \(1 row\(s\) left out\)"):
        read_corpus(tmp_path)


@pytest.mark.parametrize("name", ["accuracy", "asr", "codecs", "speed", "placement", "background"])
def test_a_missing_corpus_is_one_line_naming_it_and_exit_2(name: str, tmp_path: Path, monkeypatch, capsys) -> None:
    import importlib

    monkeypatch.setenv("SPEECHCOACH_CORPUS", str(tmp_path / "none"))
    main = importlib.import_module(f"benchmarks.{name}").main
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"benchmarks.{name}: error: corpus not found: expected {tmp_path / 'none' / 'manifest.tsv'} " \
        "(set SPEECHCOACH_CORPUS to its folder); nothing to benchmark\n"


def test_clips_are_binned_by_rate_noise_and_length() -> None:
    from benchmarks.accuracy import ClipResult, by_condition
    from benchmarks.corpus import Clip

    def result(n_chars: int, speech_s: float, snr_db: float, ours: int) -> ClipResult:
        clip = Clip(id=f"c{n_chars}", path=Path("x.wav"), source="s", transcript="", n_chars=n_chars,
                    duration_s=speech_s, alignment=None)
        return ClipResult(clip, ours=ours, praat=n_chars, speech_s=speech_s, snr_db=snr_db)

    rows = by_condition([
        result(20, 6.0, 20.0, 22),   # 200 cpm, noisy, short: +10 %
        result(100, 12.0, 60.0, 80),  # 500 cpm, clean, long: -20 %
    ])
    got = {(name.split(",")[0], label): (o["n"], o["mean"], o["bias"], pr["mean"]) for name, label, o, pr in rows}
    assert got[("speaking rate", "< 240 cpm")] == pytest.approx((1, 10.0, 10.0, 0.0), abs=1e-9)  # exact arithmetic
    assert got[("speaking rate", "≥ 420 cpm")] == pytest.approx((1, 20.0, -20.0, 0.0), abs=1e-9)
    assert got[("speech over noise floor", "< 30 dB")][0] == 1
    assert got[("speech over noise floor", "≥ 50 dB")][0] == 1
    assert got[("clip length", "< 25 chars")][0] == 1 and got[("clip length", "≥ 60 chars")][0] == 1
    assert len(rows) == 6  # empty bins are left out
