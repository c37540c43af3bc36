"""Loading: formats, channel/rate conversion, and every kind of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speechcoach.audio import ANALYSIS_SR, load
from speechcoach.errors import AudioError
from speechcoach.analysis.pipeline import analyze_audio, analyze_signal
from speechcoach.render.report import to_dict
from speechcoach.app.samples import demo_sample

from .conftest import layout, voiced


def write(path: Path, y: np.ndarray, sr: int, **kw) -> Path:
    sf.write(str(path), y, sr, **kw)
    return path


@pytest.mark.parametrize("fmt,suffix", [("WAV", ".wav"), ("FLAC", ".flac"), ("OGG", ".ogg"), ("MP3", ".mp3")])
def test_formats_read_by_soundfile(tmp_path, fmt, suffix):
    y = voiced(1.0, sr=44_100)
    p = write(tmp_path / f"x{suffix}", y, 44_100, format=fmt)
    a = load(p)
    assert a.sr == ANALYSIS_SR
    assert a.source_sr == 44_100
    assert a.duration_s == pytest.approx(1.0, abs=0.06)  # mp3 adds encoder padding
    assert len(a.samples) == pytest.approx(ANALYSIS_SR, abs=0.06 * ANALYSIS_SR)


def test_stereo_and_rate_become_mono_16k(tmp_path):
    y = voiced(2.0, sr=48_000)
    stereo = np.stack([y, 0.5 * y], axis=1)
    a = load(write(tmp_path / "s.wav", stereo, 48_000))
    assert a.channels == 2
    assert a.samples.ndim == 1
    assert len(a.samples) == 2 * ANALYSIS_SR  # exact: soxr keeps the length
    mix = 0.75 * y  # the mean of 0.1 and 0.05 peaks, less the pulse train's DC (removed on loading)
    assert np.max(np.abs(a.samples)) == pytest.approx(np.max(np.abs(mix - mix.mean())), rel=0.05)  # resampled


def test_8khz_accepted_lower_refused(tmp_path):
    assert load(write(tmp_path / "ok.wav", voiced(1.0, sr=8000), 8000)).source_sr == 8000
    with pytest.raises(AudioError, match="sample rate 6000 Hz is too low"):
        load(write(tmp_path / "low.wav", voiced(1.0, sr=6000), 6000))


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed: m4a decoding is not available here")
def test_m4a_through_ffmpeg(tmp_path):
    import subprocess

    wav = write(tmp_path / "a.wav", voiced(1.5), ANALYSIS_SR)
    m4a = tmp_path / "a.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), str(m4a)], check=True)
    a = load(m4a)
    assert a.duration_s == pytest.approx(1.5, abs=0.1)


def test_m4a_without_ffmpeg_names_ffmpeg(tmp_path, monkeypatch):
    m4a = tmp_path / "phone.m4a"
    m4a.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 100)
    monkeypatch.setattr("speechcoach.audio.shutil.which", lambda name: None)
    with pytest.raises(AudioError, match="need ffmpeg"):
        load(m4a)


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    good = write(tmp_path / "good.wav", voiced(3.0), ANALYSIS_SR)
    text = tmp_path / "notes.wav"
    text.write_text("这不是音频文件，只是文字。\n", encoding="utf-8")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    trunc = tmp_path / "truncated.wav"
    trunc.write_bytes(good.read_bytes()[:30])
    nan = tmp_path / "nan.wav"
    y = voiced(3.0)
    y[1000] = np.nan
    sf.write(str(nan), y, ANALYSIS_SR, subtype="FLOAT")
    return {
        "missing": (tmp_path / "nope.wav", "not found"),
        "text": (text, "not an audio file"),
        "empty": (empty, "empty"),
        "truncated": (trunc, "truncated"),
        "nan": (nan, "NaN"),
        "folder": (tmp_path, "folder"),
    }


@pytest.mark.parametrize("kind", ["missing", "text", "empty", "truncated", "nan", "folder"])
def test_bad_input_is_one_line_naming_the_file(tmp_path, kind):
    path, needle = _bad_inputs(tmp_path)[kind]
    with pytest.raises(AudioError) as info:
        load(path)
    msg = str(info.value)
    assert msg.startswith(str(path))
    assert needle in msg
    assert "\n" not in msg


def test_clipping_is_measured(tmp_path):
    y = np.clip(voiced(2.0, amp=3.0), -1, 1)
    a = load(write(tmp_path / "hot.wav", y, ANALYSIS_SR))
    assert a.clipped_fraction > 0.01
    assert a.peak_dbfs == pytest.approx(0.0, abs=0.01)


# --------------------------------------------------------------------------- truncated files


def _set_data_size(path: Path, size: int) -> None:
    """Overwrite the data chunk's 32-bit size field of a WAV written by libsndfile."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data") + 4
    raw[at : at + 4] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))


def test_truncated_wav_names_both_lengths(tmp_path):
    full = write(tmp_path / "full.wav", voiced(4.0), ANALYSIS_SR, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    raw = full.read_bytes()
    cut.write_bytes(raw[: 44 + 2 * int(1.5 * ANALYSIS_SR)])  # 44-byte header, then 1.5 s of 16-bit mono
    with pytest.raises(AudioError) as info:
        load(cut)
    err = info.value
    assert err.code == "truncated_audio"
    assert str(err) == f"{cut}: the file is truncated: its header says 4.0 s, only 1.5 s present"
    assert err.params["header_s"] == pytest.approx(4.0, abs=1e-3)  # exact byte counts, rounded to ms
    assert err.params["present_s"] == pytest.approx(1.5, abs=1e-3)


def test_truncated_rf64_and_float_wav(tmp_path):
    for fmt, subtype in (("RF64", "PCM_16"), ("WAV", "FLOAT")):
        full = write(tmp_path / f"full-{fmt}.wav", voiced(2.0), ANALYSIS_SR, format=fmt, subtype=subtype)
        raw = full.read_bytes()
        cut = tmp_path / f"cut-{fmt}.wav"
        cut.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(AudioError, match=r"truncated: its header says 2\.0 s"):
            load(cut)


@pytest.mark.parametrize("size", [0, 0xFFFF_FFFF, 0x7FFF_FFFF, 0x7FFF_F000])
def test_wav_of_unknown_length_still_loads(tmp_path, size):
    """Streaming writers leave a placeholder data size; the file is read as far as it goes."""
    p = write(tmp_path / "stream.wav", voiced(2.0), ANALYSIS_SR, subtype="PCM_16")
    _set_data_size(p, size)
    a = load(p)
    assert a.duration_s == pytest.approx(2.0, abs=1e-9)  # every sample present is read


def test_wav_cut_inside_a_trailing_chunk_is_complete(tmp_path):
    p = write(tmp_path / "tail.wav", voiced(2.0), ANALYSIS_SR, subtype="PCM_16")
    raw = p.read_bytes() + b"LIST" + (100).to_bytes(4, "little") + b"INFO" + b"\x00" * 20  # LIST cut short
    p.write_bytes(raw)
    assert load(p).duration_s == pytest.approx(2.0, abs=1e-9)


def test_truncated_mp3_is_refused(tmp_path):
    full = write(tmp_path / "full.mp3", voiced(6.0), ANALYSIS_SR, format="MP3")
    raw = full.read_bytes()
    assert b"Xing" in raw[:200] or b"Info" in raw[:200]  # libsndfile writes a Xing/Info header
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(AudioError) as info:
        load(cut)
    assert info.value.code == "truncated_audio"
    assert info.value.params["header_s"] == pytest.approx(6.0, abs=0.15)  # whole frames plus encoder delay
    assert info.value.params["present_s"] == pytest.approx(3.0, abs=0.15)
    twice = tmp_path / "twice.mp3"  # more bytes than its header announces: loads (mpg123 may warn)
    twice.write_bytes(raw + raw)
    assert load(twice).duration_s == pytest.approx(6.0, abs=0.06)
    assert load(full).duration_s == pytest.approx(6.0, abs=0.06)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed: m4a decoding is not available here")
def test_m4a_that_is_text_or_noise_gets_a_plain_message(tmp_path):
    text = tmp_path / "fake.m4a"
    text.write_text("这不是录音，只是一段文字。\n" * 20, encoding="utf-8")
    with pytest.raises(AudioError) as info:
        load(text)
    assert info.value.code == "not_audio_text"
    assert str(info.value) == f"{text}: not an audio file (it contains text)"
    noise = tmp_path / "noise.m4a"
    noise.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError) as info:
        load(noise)
    assert info.value.code == "unrecognised_format"
    assert str(info.value) == f"{noise}: cannot decode audio: not a recognised audio format (or the file is damaged)"
    assert "Error" not in str(info.value)


# --------------------------------------------------------------------------- odd but valid files


def _speech(seed: int = 0) -> np.ndarray:
    """Three stretches of syllables with pauses between them (16 kHz), silence around."""
    y, _ = layout([("s", 0.5), ("v", 3.0), ("s", 0.6), ("v", 2.5), ("s", 0.8), ("v", 3.0), ("s", 0.5)], noise_dbfs=-70, seed=seed)
    return y


def _dc_free(x: np.ndarray) -> np.ndarray:
    return x - np.mean(x, dtype=np.float64)


def test_opposite_phase_channels_use_one_channel_instead_of_their_silent_average(tmp_path):
    """A microphone wired with one leg inverted: the average of the channels is silence."""
    y = _speech()
    a = load(write(tmp_path / "inverted.wav", np.stack([y, -y], axis=1), ANALYSIS_SR, subtype="FLOAT"))
    assert a.channels == 2 and a.channel_used == 0  # equal power: the first
    assert np.max(np.abs(a.samples - _dc_free(y))) < 1e-6  # the channel itself (no resampling at 16 kHz), float32 rounding
    mono = analyze_audio(load(write(tmp_path / "mono.wav", y, ANALYSIS_SR, subtype="FLOAT")), count="acoustic")
    both = analyze_audio(a, count="acoustic")
    assert both.char_count == mono.char_count  # exact: the same samples
    assert both.rate.cpm == pytest.approx(mono.rate.cpm, abs=1e-9)
    louder = load(write(tmp_path / "louder_right.wav", np.stack([-0.8 * y, y], axis=1), ANALYSIS_SR))
    assert louder.channel_used == 1  # the average keeps 0.1**2 / ((0.8**2 + 1) / 2) = 1.2 % of the power: the louder one
    weaker = load(write(tmp_path / "weaker_inverted.wav", np.stack([-0.3 * y, y], axis=1), ANALYSIS_SR))
    assert weaker.channel_used is None  # keeps 0.35**2 / ((0.3**2 + 1) / 2) = 22 %: averaged, the speech is there


def test_the_report_says_which_channel_was_analysed_alone(tmp_path):
    y = _speech()
    inverted = to_dict(analyze_audio(load(write(tmp_path / "inverted.wav", np.stack([-0.8 * y, y], axis=1), ANALYSIS_SR)), count="acoustic"), lang="en")
    assert inverted["input"]["channel_used"] == 2  # 1-based, as a person counts
    warning = next(w for w in inverted["warnings"] if w["id"] == "one_channel")
    assert "only channel 2 was analysed" in warning["message"]
    plain = to_dict(analyze_audio(load(write(tmp_path / "stereo.wav", np.stack([y, y], axis=1), ANALYSIS_SR)), count="acoustic"), lang="zh")
    assert "channel_used" not in plain["input"] and all(w["id"] != "one_channel" for w in plain["warnings"])


@pytest.mark.parametrize("other", ["silent", "noise", "same"])
def test_channels_that_do_not_cancel_are_averaged(tmp_path, other):
    y = _speech()
    second = {"silent": np.zeros_like(y), "noise": np.random.default_rng(1).normal(0, 0.05, len(y)).astype(np.float32), "same": y}[other]
    a = load(write(tmp_path / f"{other}.wav", np.stack([y, second], axis=1), ANALYSIS_SR, subtype="FLOAT"))
    assert a.channel_used is None
    assert np.max(np.abs(a.samples - _dc_free((y + second) / 2))) < 1e-6  # the average, float32 rounding


def test_six_channels_with_speech_in_two(tmp_path):
    y = _speech()
    data = np.stack([y, y, 0.2 * y, *([np.zeros_like(y)] * 3)], axis=1)
    a = load(write(tmp_path / "six.wav", data, 48_000))
    assert a.channels == 6 and a.channel_used is None and a.source_sr == 48_000


@pytest.mark.parametrize("offset", [0.45, -0.3])
def test_dc_offset_is_removed(tmp_path, offset):
    y = _speech()
    a = load(write(tmp_path / "dc.wav", y + offset, ANALYSIS_SR, subtype="FLOAT"))
    assert abs(float(np.mean(a.samples, dtype=np.float64))) < 1e-6  # full scale 1
    assert a.peak_dbfs == pytest.approx(20 * np.log10(np.max(np.abs(y + offset))), abs=0.01)  # the file's own peak
    plain = analyze_audio(load(write(tmp_path / "plain.wav", y, ANALYSIS_SR, subtype="FLOAT")), count="acoustic")
    shifted = analyze_audio(a, count="acoustic")
    # the offset no longer leaks into the band energy of the silences: the same runs, to the frame (10 ms)
    np.testing.assert_allclose(shifted.segmentation.runs, plain.segmentation.runs, atol=0.0101)
    assert shifted.char_count == plain.char_count


def test_an_in_memory_signal_loses_its_dc_offset_too():
    """``analyze_signal`` removes an offset as ``load`` does, and leaves the caller's array alone
    (on the bundled demo, whose count moved by one character with the offset left in)."""
    y, sr = sf.read(demo_sample()[0], dtype="float32")
    shifted = y + np.float32(0.45)
    kept = shifted.copy()
    plain = analyze_signal(y, sr, count="acoustic")
    offset = analyze_signal(shifted, sr, count="acoustic")
    np.testing.assert_allclose(offset.segmentation.runs, plain.segmentation.runs, atol=0.0101)  # the same runs, to the frame (10 ms)
    assert offset.char_count == plain.char_count
    assert np.array_equal(shifted, kept)


def test_a_negligible_offset_is_left_alone(tmp_path):
    """Below -60 dBFS an offset cannot matter, and the recogniser's text shifts with any change."""
    y = _dc_free(_speech()) + 5e-4
    a = load(write(tmp_path / "small.wav", y, ANALYSIS_SR, subtype="FLOAT"))
    assert np.array_equal(a.samples, y.astype(np.float32))  # bit for bit


def test_broken_link_says_so(tmp_path):
    link = tmp_path / "talk.wav"
    link.symlink_to(tmp_path / "moved" / "talk.wav")
    with pytest.raises(AudioError) as info:
        load(link)
    assert info.value.code == "broken_link"
    assert str(info.value) == f"{link}: is a broken link: its target {tmp_path / 'moved' / 'talk.wav'} does not exist"


# --------------------------------------------------------------------------- content over name


def _m4a(tmp_path: Path, name: str) -> Path:
    import subprocess

    wav = write(tmp_path / "src.wav", _speech(), ANALYSIS_SR)
    out = tmp_path / "encoded.m4a"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "aac", str(out)], check=True)
    return out.rename(tmp_path / name)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed: m4a decoding is not available here")
@pytest.mark.parametrize("name", ["phone.wav", "phone.mp3", "phone.m4a"])
def test_an_m4a_renamed_wav_or_mp3_is_decoded_by_its_content(tmp_path, capfd, name):
    a = load(_m4a(tmp_path, name))
    assert a.duration_s == pytest.approx(10.9, abs=0.1)  # AAC adds encoder padding
    assert capfd.readouterr().err == ""  # libmpg123's search for MP3 frames prints nothing


def test_an_m4a_renamed_wav_without_ffmpeg_says_what_it_holds(tmp_path, monkeypatch):
    fake = tmp_path / "phone.wav"
    fake.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x02\x00M4A mp42isom" + b"\x00" * 200)
    monkeypatch.setattr("speechcoach.audio.shutil.which", lambda name: None)
    with pytest.raises(AudioError) as info:
        load(fake)
    assert info.value.code == "needs_ffmpeg_content" and info.value.params == {"kind": "M4A (MP4)"}
    assert str(info.value) == (f"{fake}: holds M4A (MP4) audio, whatever its name says, which needs ffmpeg: "
                               "it is not installed (install ffmpeg or convert to WAV)")


@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".flac", ".m4a", ".webm", ".amr", ".wma"])
def test_random_bytes_are_one_error_and_no_decoder_chatter(tmp_path, capfd, suffix):
    """libmpg123 (inside libsndfile) printed "[src/libmpg123/parse.c:…] warning: …" on stderr."""
    if suffix not in (".wav", ".mp3", ".flac") and shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    junk = tmp_path / f"junk{suffix}"
    junk.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(AudioError) as info:
        load(junk)
    assert info.value.code in ("not_audio", "unrecognised_format")
    assert capfd.readouterr().err == ""


def test_a_float_file_past_full_scale_is_not_called_clipped(tmp_path):
    """A float WAV holds samples past ±1 intact (an unnormalised export): nothing was clipped."""
    y = _speech()
    loud = load(write(tmp_path / "loud.wav", 100 * y, ANALYSIS_SR, subtype="FLOAT"))  # peak 10
    assert loud.peak_dbfs == pytest.approx(20 * np.log10(100 * np.max(np.abs(y))), abs=0.01)  # above 0 dBFS, as it is
    assert loud.clipped_fraction < 1e-3  # only samples at its own peak could count
    flat = load(write(tmp_path / "flat.wav", np.clip(30 * y, -1, 1), ANALYSIS_SR, subtype="FLOAT"))
    pcm = load(write(tmp_path / "pcm.wav", np.clip(30 * y, -1, 1), ANALYSIS_SR, subtype="PCM_16"))
    assert flat.clipped_fraction > 0.02 and pcm.clipped_fraction == pytest.approx(flat.clipped_fraction, abs=1e-3)
