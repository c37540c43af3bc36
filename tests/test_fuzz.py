"""Hostile input: mutated recordings, header bombs, absurd samples, huge scripts.

A seeded generator (``benchmarks.fuzz.mutate``: header bytes and fields, truncations, body
bytes, sample values, splices) runs a few hundred mutated WAV/FLAC/OGG/MP3 files through
:func:`speechcoach.audio.load` (every tenth through the whole analysis): each either loads as a
finite 16 kHz mono signal or is refused by an :class:`AudioError` naming the file on one line,
and no decoder prints on stderr. The thousands, the command line and peak memory are
``benchmarks/fuzz.py``'s (``benchmarks/FUZZ_RESULTS.md``).
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.fuzz import mutate, speechlike, write_seeds
from speechcoach.analysis.pipeline import MAX_SCRIPT_BYTES, analyze_file, read_script
from speechcoach.audio import ANALYSIS_SR, load
from speechcoach.errors import AudioError, ScriptError
from speechcoach.locales import error_text, strings
from speechcoach.settings import Settings

CASES = 320
"""Mutated inputs in the suite (about 10 s on one core); the benchmark runs thousands."""


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, tuple[str, bytes]]:
    return write_seeds(tmp_path_factory.mktemp("seeds"))


def _judge(path: Path, exc: AudioError) -> None:
    """A refusal: one line, the file first, a code with a template in both languages."""
    text = str(exc)
    assert text.startswith(f"{path}: ") and "\n" not in text, text
    assert exc.code in strings("en")["errors"] and exc.code in strings("zh")["errors"], exc.code
    assert error_text(exc, lang="zh") != "", text


def test_mutated_inputs_load_or_are_refused_in_one_line(seeds, tmp_path, capfd):
    rng = random.Random(2023)
    names = sorted(seeds)
    others = [seeds[n][1] for n in names]
    outcomes: dict[str, int] = {"loaded": 0, "refused": 0}
    settings = Settings(count="acoustic")
    for i in range(CASES):
        name = names[i % len(names)]
        kind, data = seeds[name]
        how, mutated = mutate(name, data, kind, rng, others)
        path = tmp_path / f"case{i}_{name}"
        path.write_bytes(mutated)
        try:
            if i % 10 == 0:
                analyze_file(path, settings=settings)
            else:
                a = load(path)
                assert a.samples.dtype == np.float32 and a.samples.ndim == 1 and a.sr == ANALYSIS_SR
                assert np.all(np.isfinite(a.samples)), (how, path.name)
            outcomes["loaded"] += 1
        except AudioError as exc:
            _judge(path, exc)
            outcomes["refused"] += 1
        path.unlink()
    assert outcomes["loaded"] > CASES // 10 and outcomes["refused"] > CASES // 3, outcomes  # both kinds exercised
    assert capfd.readouterr().err == ""  # no decoder chatter, no numpy warning


# --------------------------------------------------------------------------- header bombs


def test_a_flac_claiming_2_36_samples_is_refused_as_truncated(tmp_path):
    """STREAMINFO claiming 2^36-1 samples (256 GiB of float32) over 5 s: refused naming both
    lengths, with the 5 s present decoded in blocks (no allocation from the claim)."""
    p = tmp_path / "bomb.flac"
    sf.write(str(p), speechlike(5.0, ANALYSIS_SR), ANALYSIS_SR)
    b = bytearray(p.read_bytes())
    b[18:26] = (int.from_bytes(b[18:26], "big") | ((1 << 36) - 1)).to_bytes(8, "big")
    p.write_bytes(b)
    with pytest.raises(AudioError) as info:
        load(p)
    assert info.value.code == "truncated_audio"
    assert info.value.params["header_s"] == pytest.approx(((1 << 36) - 1) / ANALYSIS_SR, rel=1e-6)
    assert info.value.params["present_s"] == pytest.approx(5.0, abs=0.3)  # counted in 4096-frame reads


def test_a_wav_header_claiming_3_gb_is_refused_as_truncated(tmp_path):
    p = tmp_path / "claim.wav"
    sf.write(str(p), speechlike(12.0, ANALYSIS_SR), ANALYSIS_SR, subtype="PCM_16")
    b = bytearray(p.read_bytes())
    pos = b.find(b"data")
    b[pos + 4 : pos + 8] = (3_000_000_000).to_bytes(4, "little")
    p.write_bytes(b)
    with pytest.raises(AudioError) as info:
        load(p)
    assert info.value.code == "truncated_audio"
    assert (info.value.params["header_s"], info.value.params["present_s"]) == (93750.0, 12.0)


def test_an_mp3_with_a_huge_xing_frame_count_loads_what_is_there(tmp_path):
    p = tmp_path / "xing.mp3"
    sf.write(str(p), speechlike(4.0, ANALYSIS_SR), ANALYSIS_SR, format="MP3")
    b = bytearray(p.read_bytes())
    tag = max(b.find(b"Xing"), b.find(b"Info"))
    b[tag + 8 : tag + 12] = (0xFFFF_FFF0).to_bytes(4, "big")
    p.write_bytes(b)
    assert load(p).duration_s == pytest.approx(4.0, abs=0.1)


def test_many_channels_at_a_high_rate_are_mixed_block_by_block(tmp_path):
    """The FLAC bomb's shape (192 kHz, 8 channels) at 8 s: the 16 kHz mono result, and the
    channels' average (the file's own rate and channels are never held whole)."""
    y = speechlike(8.0, 192_000)
    p = tmp_path / "wide.flac"
    sf.write(str(p), np.tile(y[:, None], (1, 8)), 192_000, subtype="PCM_16")
    a = load(p)
    assert (a.channels, a.source_sr, len(a.samples)) == (8, 192_000, 8 * ANALYSIS_SR)
    assert np.max(np.abs(a.samples)) == pytest.approx(0.3, rel=0.02)


# --------------------------------------------------------------------------- length cap


def test_max_minutes_refuses_a_longer_wav_before_decoding(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(str(p), np.zeros(int(3.2 * 60 * 8000), np.int16), 8000, subtype="PCM_16")
    with pytest.raises(AudioError) as info:
        load(p, max_minutes=3)
    assert info.value.code == "too_long" and info.value.params == {"limit_min": 3}
    assert str(info.value) == f"{p}: is longer than 3 minutes, the longest recording analysed (--max-minutes)"
    assert load(p, max_minutes=3.5).duration_s == pytest.approx(192.0)


def test_max_minutes_stops_decoding_a_compressed_file_past_the_limit(tmp_path):
    """A FLAC's length is only a claim: it is decoded up to the limit, then refused."""
    p = tmp_path / "long.flac"
    sf.write(str(p), np.zeros(int(1.5 * 60 * 8000), np.int16), 8000, subtype="PCM_16")
    with pytest.raises(AudioError) as info:
        analyze_file(p, settings=Settings(max_minutes=1.0))
    assert info.value.code == "too_long" and info.value.params == {"limit_min": 1.0}


def test_the_command_line_names_the_file_past_max_minutes(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(str(p), np.zeros(int(1.2 * 60 * 8000), np.int16), 8000, subtype="PCM_16")
    res = subprocess.run([sys.executable, "-m", "speechcoach", "analyze", "--lang", "en", "--max-minutes", "1", str(p)],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr == f"speechcoach: error: {p}: is longer than 1 minutes, the longest recording analysed (--max-minutes)\n"


# --------------------------------------------------------------------------- sample values


@pytest.mark.parametrize("value", [1e18, float(np.finfo(np.float32).max), 2e5])
def test_absurd_float_samples_are_refused(tmp_path, value):
    p = tmp_path / "absurd.wav"
    y = speechlike(4.0, ANALYSIS_SR)
    y[100] = value
    sf.write(str(p), y, ANALYSIS_SR, subtype="FLOAT")
    with pytest.raises(AudioError) as info:
        load(p)
    assert info.value.code == "absurd_samples"


def test_float_samples_on_the_16_bit_scale_are_analysed_like_the_same_speech(tmp_path):
    """Some tools write floats at ±32768: far past full scale, but speech; read, not refused."""
    y = speechlike(6.0, ANALYSIS_SR)
    loud, plain = tmp_path / "loud.wav", tmp_path / "plain.wav"
    sf.write(str(loud), y * 32767, ANALYSIS_SR, subtype="FLOAT")
    sf.write(str(plain), y, ANALYSIS_SR, subtype="FLOAT")
    a, b = analyze_file(loud, settings=Settings(count="acoustic")), analyze_file(plain, settings=Settings(count="acoustic"))
    assert a.char_count == b.char_count
    np.testing.assert_allclose(a.segmentation.runs, b.segmentation.runs, atol=0.0101)


def test_a_gsm_wav_is_decoded(tmp_path):
    """GSM 6.10 in a WAV (libsndfile reads it but cannot seek in it): read block by block."""
    p = tmp_path / "gsm.wav"
    sf.write(str(p), speechlike(6.0, 8000), 8000, format="WAV", subtype="GSM610")
    a = load(p)
    assert a.source_sr == 8000 and a.duration_s == pytest.approx(6.0, abs=0.05)


# --------------------------------------------------------------------------- scripts


def test_a_script_over_1_mb_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes("社保卡挂失。".encode() * (MAX_SCRIPT_BYTES // 18 + 1))
    with pytest.raises(ScriptError) as info:
        read_script(big)
    assert info.value.code == "script_too_large"
    assert str(info.value).startswith(f"{big}: script file is too large (1.0 MB; at most 1 MB)")
    with pytest.raises(ScriptError):  # a device that never ends is refused after 1 MB
        read_script("/dev/zero")
    ok = tmp_path / "ok.txt"
    ok.write_bytes("社保卡挂失。".encode() * (MAX_SCRIPT_BYTES // 18 - 1))
    assert read_script(ok).startswith("社保卡")


# --------------------------------------------------------------------------- out of memory


def test_running_out_of_memory_is_exit_2_naming_the_file(tmp_path):
    """A real MemoryError (the process's address space capped at 300 MB, a 40-minute recording
    to analyse): one line naming the file, exit 2, never a traceback or exit 3."""
    import resource

    p = tmp_path / "long.wav"
    y = (speechlike(60.0, ANALYSIS_SR) * 32767).astype(np.int16)
    with sf.SoundFile(str(p), "w", ANALYSIS_SR, 1, subtype="PCM_16") as f:
        for _ in range(40):
            f.write(y)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (300 << 20, 300 << 20))

    res = subprocess.run([sys.executable, "-m", "speechcoach", "analyze", "--count", "acoustic", str(p)], capture_output=True,
                         text=True, preexec_fn=cap, env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 2, res.stderr
    assert res.stderr == f"speechcoach：错误：{p}：分析时内存不足\n"


def test_batch_does_not_remember_a_failure_another_run_may_not_repeat():
    """Out of memory, or a bug met on the file: exit 2 naming it, but not the file's own fault
    for good (``batch`` retries it next run); a bad file stays remembered."""
    from speechcoach.app.workers import failure_of

    for code in ("out_of_memory", "analysis_failed"):
        f = failure_of(AudioError("a.wav", "x", code=code, params={"detail": "ValueError: y"}), "a.wav", "en")
        assert (f.exit_code, f.cacheable) == (2, False)
    assert failure_of(AudioError("a.wav", "x", code="too_long", params={"limit_min": 120}), "a.wav", "en").cacheable


# --------------------------------------------------------------------------- the practice server's cap


def test_an_upload_past_the_servers_cap_gets_413_naming_it(tmp_path):
    """``serve`` analyses uploads of at most 15 minutes (``--max-minutes``): past it, 413 with the
    upload's name, and nothing stored."""
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from speechcoach.app.server import UPLOAD_MAX_MINUTES, create_app

    assert create_app(tmp_path / "d0", port=8765).state.settings.max_minutes == UPLOAD_MAX_MINUTES == 15
    app = create_app(tmp_path / "data", port=8765, max_minutes=0.1)  # 6 s
    client = TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False)
    wav = tmp_path / "talk.wav"
    sf.write(str(wav), speechlike(8.0, ANALYSIS_SR), ANALYSIS_SR, subtype="PCM_16")
    with open(wav, "rb") as fh:
        res = client.post("/api/analyze?lang=en", files={"audio": ("talk.wav", fh, "audio/wav")}, data={"lang": "en"})
    assert res.status_code == 413 and res.json()["code"] == "too_long"
    assert "talk.wav" in res.json()["error"] and "0.1 minutes" in res.json()["error"]
    assert client.get("/api/attempts", params={"trainee": "x"}).json()["attempts"] == []
