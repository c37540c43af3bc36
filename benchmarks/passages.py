"""Trainee-length passages with known truth, built from the real-speech clips.

Trainees speak for 1–3 minutes; the corpus clips last 2–28 s. A passage joins clips with
inserted silences of known length, so its character count, speech span and pauses are known
without asking the system under test.

How a passage is built (everything drawn from ``numpy.random.default_rng([seed, i])``):

* clips are drawn without repetition within the passage until the target length
  (60–150 s) is reached; the clip in :data:`benchmarks.corpus.EXCLUDED` is never used;
* some clips (those without punctuation inside the sentence, ≥ 10 characters) are **cut in
  two** and the halves separated by a gap: a ``mid_phrase`` pause. THCHS-30 clips are cut at
  a word boundary of their forced-alignment TextGrid (in the middle of an empty interval if
  there is one) and the transcript is split by the words; other clips are cut at the quietest
  10 ms frame (independent RMS, below) in the middle 35–65 % of their speech, and the
  transcript is split in proportion to time (so the character index of such a cut is
  approximate, ``cut_exact`` is False);
* every piece is time-stretched by the passage's factor (duration × 0.75–1.15, phase vocoder,
  ``librosa.effects.time_stretch`` with a 32 ms FFT) and scaled to a common speech level
  (−18 dBFS ± 2 dB per clip);
* pieces are separated by gaps of digital silence: 0.3–3 s between clips (a ``sentence``
  pause: the script gets 。 there), 0.3–1.5 s at a cut; 0.5–1.5 s of lead-in and tail;
* continuous room noise is added to the whole passage: pink or brown noise at −60 to −40 dBFS
  RMS, in half the passages with a faint 50 Hz hum (and harmonics).

Truth
-----
Each piece's own speech onset and offset are found on the CLEAN piece (after stretching,
before noise) by an energy threshold independent of speechcoach: RMS of 25 ms frames every
10 ms after a 100 Hz high-pass; threshold = max(speech level − 35 dB, floor + 10 dB), where
the speech level is the 99th and the floor the 5th percentile of frame levels; onset/offset are
the first/last frame of a stretch of ≥ 30 ms above the threshold that somewhere comes within
25 dB of the speech level (so a lone breath or lip noise before the first syllable, typically
25–35 dB under the vowels, is not taken for the onset) **and holds voicing**: Praat's pitch
tracker (parselmouth, default autocorrelation settings, 10 ms steps) finds a pitch in at least
``MIN_VOICED_FRAMES`` of its frames. Every Mandarin syllable has a voiced nucleus, and an
unvoiced initial runs straight into it without dropping below the threshold, so a speech
stretch always holds voicing; an audible in-breath or a trailing exhalation does not, however
loud (some corpus speakers breathe only 15–20 dB under their vowels, and such a breath is
part of the pause a listener hears, not speech). A piece of a cut clip uses its whole
clip's threshold and speech level.

* characters: the sum of the clips' :func:`~speechcoach.characters.count_spoken` counts;
* span: the first piece's onset to the last piece's offset;
* pauses: at every join, from the previous piece's offset to the next piece's onset (the
  inserted gap plus the pieces' own trailing and leading silence).

Pauses inside a clip's own speech cannot be known exactly. Rule used by :func:`score_pauses`:
a detected pause lying entirely inside one piece's speech (its onset..offset) is neither a hit
nor a false alarm; it is counted separately as ``inside``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from speechcoach.characters import SENTENCE_END, count_spoken, spoken_units

from .corpus import SR, Clip, corpus_dir, read_corpus, textgrid_words

# --- the independent energy measure --------------------------------------------------------
FRAME_S = 0.025
HOP_S = 0.010
HIGHPASS_HZ = 100.0
BELOW_LEVEL_DB = 35.0
ABOVE_FLOOR_DB = 10.0
MIN_STRETCH_S = 0.03
REACH_DB = 25.0
MIN_VOICED_FRAMES = 3
"""A truth speech stretch must hold at least this many voiced 10 ms pitch frames (30 ms)."""

# --- passage construction ------------------------------------------------------------------
PASSAGE_S = (60.0, 150.0)
STRETCH = (0.75, 1.15)
NOISE_DBFS = (-60.0, -40.0)
SPEECH_DBFS = -18.0
SENTENCE_GAP_S = (0.3, 3.0)
CUT_GAP_S = (0.3, 1.5)
EDGE_S = (0.5, 1.5)
CUT_PROBABILITY = 0.35
CUT_MIN_CHARS = 10
CUT_RANGE = (0.35, 0.65)
FADE_S = 0.005
MUTE_RAMP_S = 0.020
MUTE_MARGIN_S = 0.010
TOLERANCE_S = 0.100
"""A detected pause matches a true one when both edges are within this many seconds."""


@dataclass(frozen=True)
class Passage:
    """A built recording and its truth.

    Attributes
    ----------
    y : np.ndarray, shape (n,), float32
        The signal, mono.
    sr : int
        Sample rate in Hz.
    script : str
        The clips' transcripts in order, with their own punctuation; a clip join ends in 。
        (or the clip's own ？/！).
    n_chars : int
        True spoken characters (equals ``count_spoken(script)``).
    span : tuple of float
        True speech span ``(start_s, end_s)``.
    pauses : list of (start_s, end_s, kind)
        True pauses at the joins, in time order; kind is ``"sentence"`` or ``"mid_phrase"``.
    pause_char_index : list of int
        For each pause, the index in ``script`` of the last spoken character before it.
    cut_exact : list of bool
        For each pause, whether ``pause_char_index`` is exact (clip joins and TextGrid cuts)
        or proportional to time (other cuts).
    speech : list of (start_s, end_s)
        Each piece's own speech interval; detections inside one are not scored.
    clips : list of str
        The clip ids used, in order (a cut clip appears once).
    stretch : float
        Duration factor applied to every piece.
    noise_dbfs : float
        RMS level of the added room noise.
    seed : tuple of int
        The seed the passage was drawn with.
    clean : np.ndarray or None, shape (n,), float32
        The speech alone: the pieces and the exact-zero gaps between them, before the room noise
        (``y - clean`` is the room noise).
    extents : list of (int, int)
        Sample range ``[start, stop)`` of each piece in ``y`` (one per ``speech`` interval), its
        own silence around the speech included.
    piece_clip : list of int
        For each piece, the position in ``clips`` of the clip it came from.
    """

    y: np.ndarray
    sr: int
    script: str
    n_chars: int
    span: tuple[float, float]
    pauses: list[tuple[float, float, str]]
    pause_char_index: list[int]
    cut_exact: list[bool]
    speech: list[tuple[float, float]]
    clips: list[str]
    stretch: float
    noise_dbfs: float
    seed: tuple[int, int] = field(default=(0, 0))
    clean: np.ndarray | None = None
    extents: list[tuple[int, int]] = field(default_factory=list)
    piece_clip: list[int] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.y) / self.sr

    @property
    def span_s(self) -> float:
        return self.span[1] - self.span[0]

    @property
    def cpm(self) -> float:
        """True speaking rate in characters per minute."""
        return 60.0 * self.n_chars / self.span_s

    def piece_chars(self) -> list[int]:
        """Characters spoken in each piece (one per ``speech`` interval), from the script split
        at ``pause_char_index`` (approximate at a cut whose ``cut_exact`` is False)."""
        bounds = [-1, *self.pause_char_index, len(self.script) - 1]
        return [count_spoken(self.script[a + 1 : b + 1]) for a, b in zip(bounds[:-1], bounds[1:])]


@dataclass(frozen=True)
class _Piece:
    """A stretched, levelled stretch of one clip with its own speech bounds (piece time)."""

    y: np.ndarray
    onset_s: float
    offset_s: float
    text: str
    ends_sentence: bool
    clip_id: str


# --- independent energy --------------------------------------------------------------------
def frame_levels(y: np.ndarray, sr: int) -> np.ndarray:
    """RMS level in dB of 25 ms frames every 10 ms after a 100 Hz high-pass, shape (m,).

    Frame ``i`` is centred at ``i * HOP_S + FRAME_S / 2``.
    """
    from scipy.signal import butter, sosfilt

    sos = butter(2, HIGHPASS_HZ, btype="highpass", fs=sr, output="sos")
    x = sosfilt(sos, np.asarray(y, dtype=np.float64))
    win, hop = int(FRAME_S * sr), int(HOP_S * sr)
    if len(x) < win:
        x = np.pad(x, (0, win - len(x)))
    m = 1 + (len(x) - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(m)[:, None]
    return 10.0 * np.log10(np.mean(x[idx] ** 2, axis=1) + 1e-12)


def voiced_times(y: np.ndarray, sr: int) -> np.ndarray:
    """Centre times (s) of the 10 ms frames in which Praat's pitch tracker finds a pitch, shape (k,).

    Praat's autocorrelation method with its default settings (75–600 Hz, voicing threshold
    0.45), through parselmouth: a reference independent of speechcoach's own voicing cue.
    """
    import parselmouth

    if len(y) < int(0.1 * sr):
        return np.zeros(0)
    pitch = parselmouth.Sound(np.asarray(y, dtype=np.float64), sampling_frequency=sr).to_pitch_ac(time_step=HOP_S)
    f0 = pitch.selected_array["frequency"]
    return np.asarray(pitch.xs())[f0 > 0]


def speech_reference(levels: np.ndarray) -> tuple[float, float]:
    """Threshold and speech level in dB of one clean clip (module docstring).

    Returns
    -------
    threshold_db : float
        max(speech level − 35 dB, floor + 10 dB).
    level_db : float
        The 99th percentile of frame levels.
    """
    level = float(np.percentile(levels, 99))
    return max(level - BELOW_LEVEL_DB, float(np.percentile(levels, 5)) + ABOVE_FLOOR_DB), level


def speech_bounds(y: np.ndarray, sr: int, reference: tuple[float, float] | None = None) -> tuple[float, float]:
    """Speech onset and offset in seconds of a clean clip.

    Parameters
    ----------
    reference : (threshold_db, level_db), optional
        By default :func:`speech_reference` of the clip itself; a piece of a cut clip passes
        its whole clip's reference instead (shifted by the gain applied), since the piece may
        hold no silence to estimate a floor from.
    """
    lev = frame_levels(y, sr)
    thr, level = speech_reference(lev) if reference is None else reference
    d = np.diff(np.concatenate([[0], (lev > thr).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    peaks = np.array([lev[a:b].max() for a, b in zip(starts, ends)]) if len(starts) else np.zeros(0)
    keep = ((ends - starts) * HOP_S >= MIN_STRETCH_S) & (peaks >= level - REACH_DB)
    if keep.any():
        voiced = voiced_times(y, sr)
        # level frame i covers [i * HOP_S, i * HOP_S + FRAME_S]
        lo, hi = starts * HOP_S, (ends - 1) * HOP_S + FRAME_S
        n_voiced = np.searchsorted(voiced, hi, side="right") - np.searchsorted(voiced, lo, side="left")
        keep &= n_voiced >= MIN_VOICED_FRAMES
    starts, ends = starts[keep], ends[keep]
    if len(starts) == 0:
        return 0.0, len(y) / sr
    return float(starts[0] * HOP_S), float((ends[-1] - 1) * HOP_S + FRAME_S)


# --- cutting a clip ------------------------------------------------------------------------
def cuttable(clip: Clip) -> bool:
    """Whether a clip may be cut mid-phrase: no punctuation inside the sentence, long enough."""
    body = clip.transcript.rstrip("。.！!？?，, ")
    inner_punct = any(not (ch.isalnum()) for ch in body)
    return clip.n_chars >= CUT_MIN_CHARS and not inner_punct


def cut_point(clip: Clip, y: np.ndarray, rng: np.random.Generator) -> tuple[float, int, bool]:
    """Where to cut a clip and how many spoken characters come before the cut.

    Returns
    -------
    cut_s : float
        Cut time in the clip (unstretched), seconds.
    n_before : int
        Spoken characters before the cut.
    exact : bool
        True when the split comes from a word alignment, False when proportional to time.
    """
    at_word = _cut_at_word(clip, rng) if clip.alignment is not None else None
    if at_word is not None:
        return at_word
    on, off = speech_bounds(y, SR)
    lev = frame_levels(y, SR)
    lev = np.convolve(lev, np.ones(5) / 5, mode="same")
    lo = int((on + CUT_RANGE[0] * (off - on)) / HOP_S)
    hi = int((on + CUT_RANGE[1] * (off - on)) / HOP_S)
    i = lo + int(np.argmin(lev[lo:hi]))
    cut_s = i * HOP_S + FRAME_S / 2
    n_before = int(round(clip.n_chars * (cut_s - on) / (off - on)))
    return cut_s, int(np.clip(n_before, 1, clip.n_chars - 1)), False


def _cut_at_word(clip: Clip, rng: np.random.Generator) -> tuple[float, int, bool] | None:
    """A cut between two words of the clip's TextGrid; None when the TextGrid cannot be read or
    offers no word boundary in the middle of the speech (the caller then cuts by level)."""
    assert clip.alignment is not None
    try:
        iv = textgrid_words(clip.alignment)
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    words = [k for k, (_, _, t) in enumerate(iv) if t]
    if len(words) < 2 or iv[words[-1]][1] <= iv[words[0]][0]:
        return None
    first, last = iv[words[0]][0], iv[words[-1]][1]
    options = []
    for a, b in zip(words[:-1], words[1:]):
        cut = (iv[b][0] + iv[a][1]) / 2 if b > a + 1 else iv[a][1]
        if CUT_RANGE[0] <= (cut - first) / (last - first) <= CUT_RANGE[1]:
            n_before = sum(count_spoken(iv[k][2]) for k in words if k <= a)
            options.append((cut, n_before))
    if not options:
        return None
    cut, n_before = options[int(rng.integers(len(options)))]
    return float(cut), int(n_before), True


def _split_text(text: str, n_before: int) -> tuple[str, str]:
    """Split ``text`` after its ``n_before``-th spoken unit."""
    units = spoken_units(text)
    at = units[n_before].index
    return text[:at], text[at:]


# --- building ------------------------------------------------------------------------------
def _stretch(y: np.ndarray, factor: float) -> np.ndarray:
    import librosa

    if abs(factor - 1.0) < 1e-3:
        return y.astype(np.float32)
    return librosa.effects.time_stretch(y, rate=1.0 / factor, n_fft=512, hop_length=128).astype(np.float32)


def _fade(y: np.ndarray, *, head: bool, tail: bool) -> np.ndarray:
    n = int(FADE_S * SR)
    y = y.copy()
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    if head:
        y[:n] *= ramp
    if tail:
        y[-n:] *= ramp[::-1]
    return y


def _piece(y: np.ndarray, text: str, clip: Clip, factor: float, gain_db: float, reference: tuple[float, float], *, cut_head: bool, cut_tail: bool) -> _Piece:
    """Stretch, level and bound one piece; its silence outside the speech is muted."""
    y = _fade(y, head=cut_head, tail=cut_tail)
    y = _stretch(y, factor) * np.float32(10 ** (gain_db / 20))
    peak = float(np.max(np.abs(y)))
    if peak > 0.9:
        y *= np.float32(0.9 / peak)
    on, off = speech_bounds(y, SR, (reference[0] + gain_db, reference[1] + gain_db))
    y = _mute_outside(y, on, off)
    ends = text.rstrip()[-1:] in SENTENCE_END
    return _Piece(y=y, onset_s=on, offset_s=off, text=text, ends_sentence=ends, clip_id=clip.id)


def _mute_outside(y: np.ndarray, on: float, off: float) -> np.ndarray:
    """Silence a piece before ``on`` and after ``off`` (20 ms ramps just outside them).

    The clips come from many rooms: left in, their own noise would switch on and off at every
    join, which no single recording does. The silence keeps its length; only the passage's
    room noise is heard in it.
    """
    n = len(y)
    t = np.arange(n) / SR
    ramp = MUTE_RAMP_S
    gain = np.clip(np.minimum((t - (on - ramp - MUTE_MARGIN_S)) / ramp, ((off + ramp + MUTE_MARGIN_S) - t) / ramp), 0.0, 1.0)
    return (y * gain).astype(np.float32)


def room_noise(n: int, rng: np.random.Generator, level_dbfs: float, *, color: str, hum: bool) -> np.ndarray:
    """Continuous room noise of ``n`` samples at ``level_dbfs`` RMS.

    Parameters
    ----------
    color : {"pink", "brown"}
        Spectral slope: 1/f (pink) or 1/f² (brown) in power, above 20 Hz.
    hum : bool
        Add a 50 Hz hum with its 2nd and 3rd harmonics, 6–12 dB under the noise.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    slope = 0.5 if color == "pink" else 1.0
    spec /= np.maximum(f, 20.0) ** slope
    x = np.fft.irfft(spec, n)
    x *= 10 ** (level_dbfs / 20) / (np.sqrt(np.mean(x**2)) + 1e-12)
    if hum:
        t = np.arange(n) / SR
        h = sum(a * np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) for k, a in ((1, 1.0), (2, 0.5), (3, 0.3)))
        h *= 10 ** ((level_dbfs - rng.uniform(6, 12)) / 20) / np.sqrt(np.mean(h**2))
        x += h
    return x.astype(np.float32)


def _pieces_for(clip: Clip, y: np.ndarray, rng: np.random.Generator, factor: float, cut: bool) -> tuple[list[_Piece], bool]:
    lev = frame_levels(y, SR)
    reference = speech_reference(lev)
    gain = SPEECH_DBFS + float(rng.uniform(-2, 2)) - float(np.percentile(lev, 95))
    if not cut:
        return [_piece(y, clip.transcript, clip, factor, gain, reference, cut_head=False, cut_tail=False)], True
    cut_s, n_before, exact = cut_point(clip, y, rng)
    k = int(round(cut_s * SR))
    a, b = _split_text(clip.transcript, n_before)
    return [
        _piece(y[:k], a, clip, factor, gain, reference, cut_head=False, cut_tail=True),
        _piece(y[k:], b, clip, factor, gain, reference, cut_head=True, cut_tail=False),
    ], exact


def _script_part(text: str, last: bool) -> str:
    """A clip's text as it enters the script: a join ends in 。 unless it ends in ？/！."""
    body = text.rstrip()
    if last:
        return body
    if body[-1:] in SENTENCE_END:
        return body
    return body.rstrip(".,，、;；:：") + "。"


def build_passage(clips: list[Clip], audio: dict[str, np.ndarray], seed: tuple[int, int], *, length_s: tuple[float, float] = PASSAGE_S) -> Passage:
    """One passage drawn with ``numpy.random.default_rng(seed)`` (see the module docstring)."""
    rng = np.random.default_rng(list(seed))
    target = rng.uniform(*length_s)
    factor = float(rng.uniform(*STRETCH))
    noise_db = float(rng.uniform(*NOISE_DBFS))
    color = "pink" if rng.random() < 0.5 else "brown"
    hum = bool(rng.random() < 0.5)

    order = rng.permutation(len(clips))
    chosen: list[Clip] = []
    total = 0.0
    for i in order:
        if total >= target:
            break
        chosen.append(clips[i])
        total += clips[i].duration_s * factor + 1.2
    # (piece, kind of the pause that FOLLOWS it, exactness of that pause's char index)
    seq: list[tuple[_Piece, str, bool]] = []
    for j, clip in enumerate(chosen):
        cut = j > 0 and cuttable(clip) and rng.random() < CUT_PROBABILITY
        pieces, exact = _pieces_for(clip, audio[clip.id], rng, factor, cut)
        if len(pieces) == 2:
            seq.append((pieces[0], "mid_phrase", exact))
        seq.append((pieces[-1], "sentence", True))
    return _assemble(seq, rng, factor, noise_db, color, hum, seed)


def _assemble(seq: list[tuple[_Piece, str, bool]], rng: np.random.Generator, factor: float, noise_db: float, color: str, hum: bool, seed: tuple[int, int]) -> Passage:
    chunks = [np.zeros(int(rng.uniform(*EDGE_S) * SR), dtype=np.float32)]
    t = len(chunks[0]) / SR
    script = ""
    speech: list[tuple[float, float]] = []
    pauses: list[tuple[float, float, str]] = []
    char_index: list[int] = []
    exact_list: list[bool] = []
    extents: list[tuple[int, int]] = []
    at = len(chunks[0])
    for j, (piece, kind, exact) in enumerate(seq):
        if j > 0:
            prev_kind = seq[j - 1][1]
            gap = rng.uniform(*(CUT_GAP_S if prev_kind == "mid_phrase" else SENTENCE_GAP_S))
            chunks.append(np.zeros(int(gap * SR), dtype=np.float32))
            t += len(chunks[-1]) / SR
            at += len(chunks[-1])
            pauses.append((speech[-1][1], t + piece.onset_s, prev_kind))
        speech.append((t + piece.onset_s, t + piece.offset_s))
        chunks.append(piece.y)
        extents.append((at, at + len(piece.y)))
        at += len(piece.y)
        t += len(piece.y) / SR
        last = j == len(seq) - 1
        part = piece.text if kind == "mid_phrase" else _script_part(piece.text, last)
        start = len(script)
        script += part
        if not last:
            char_index.append(start + spoken_units(part)[-1].index)
            exact_list.append(exact)
    chunks.append(np.zeros(int(rng.uniform(*EDGE_S) * SR), dtype=np.float32))
    clean = np.concatenate(chunks)
    y = clean + room_noise(len(clean), rng, noise_db, color=color, hum=hum)
    clip_ids = list(dict.fromkeys(p.clip_id for p, _, _ in seq))
    return Passage(
        y=y.astype(np.float32),
        sr=SR,
        script=script,
        n_chars=count_spoken(script),
        span=(speech[0][0], speech[-1][1]),
        pauses=pauses,
        pause_char_index=char_index,
        cut_exact=exact_list,
        speech=speech,
        clips=clip_ids,
        stretch=factor,
        noise_dbfs=noise_db,
        seed=seed,
        clean=clean,
        extents=extents,
        piece_clip=[clip_ids.index(p.clip_id) for p, _, _ in seq],
    )


@lru_cache(maxsize=2)
def _corpus(root: Path) -> tuple[list[Clip], dict[str, np.ndarray]]:
    clips, audio, _skipped = read_corpus(root)  # rows that cannot be used are left out (benchmarks.accuracy names them)
    return clips, audio


def build_passages(n: int = 12, seed: int = 2024, *, length_s: tuple[float, float] = PASSAGE_S, root: Path | None = None) -> list[Passage]:
    """``n`` passages, deterministic for a given ``seed``.

    Parameters
    ----------
    n : int
        How many passages.
    seed : int
        Passage ``i`` is drawn with ``numpy.random.default_rng([seed, i])``.
    length_s : (float, float), keyword-only
        Range of target lengths in seconds (a passage may overshoot by one clip).
    root : Path, keyword-only
        Corpus folder; by default :func:`benchmarks.corpus.corpus_dir`.

    Returns
    -------
    list of Passage

    Raises
    ------
    FileNotFoundError
        When the corpus is absent.
    """
    root = root or corpus_dir()
    if root is None:
        raise FileNotFoundError("speechcoach benchmark corpus not found")
    clips, audio = _corpus(root)
    return [build_passage(clips, audio, (seed, i), length_s=length_s) for i in range(n)]


# --- scoring -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PauseScore:
    """Detected pauses against a passage's true ones.

    Attributes
    ----------
    n_true, n_detected : int
        True pauses; detected pauses that are scored (not inside a piece's speech).
    hits : int
        One-to-one matches with both edges within the tolerance.
    hits_by_kind : dict
        Hits per kind (``sentence``, ``mid_phrase``); ``true_by_kind`` the totals.
    inside : int
        Detections inside a piece's own speech (not scored).
    start_err_s, end_err_s : np.ndarray
        Detected minus true edge (seconds) for every true pause that overlaps a scored
        detection (matched or not): shows systematic edge offsets.
    matches : list of (int, int)
        ``(true index, detected index)`` of every hit; detected indices refer to the list
        passed to :func:`score_pauses`.
    """

    n_true: int
    n_detected: int
    hits: int
    hits_by_kind: dict[str, int]
    true_by_kind: dict[str, int]
    inside: int
    start_err_s: np.ndarray
    end_err_s: np.ndarray
    matches: list[tuple[int, int]] = field(default_factory=list)


def score_pauses(detected: list[tuple[float, float]], passage: Passage, *, tol: float = TOLERANCE_S) -> PauseScore:
    """Match detected pauses to a passage's true ones (both edges within ``tol``).

    Detections lying entirely inside one piece's own speech are not scored (see the module
    docstring). Matching is greedy by total edge error, one to one.
    """
    det = [(float(a), float(b)) for a, b in detected]
    inside = [any(s <= a and b <= e for s, e in passage.speech) for a, b in det]
    index = [k for k, ins in enumerate(inside) if not ins]
    scored = [det[k] for k in index]
    pairs = []
    for i, (ta, tb, _) in enumerate(passage.pauses):
        for j, (da, db) in enumerate(scored):
            if abs(da - ta) <= tol and abs(db - tb) <= tol:
                pairs.append((abs(da - ta) + abs(db - tb), i, j))
    used_t: set[int] = set()
    used_d: set[int] = set()
    matches = []
    for _, i, j in sorted(pairs):
        if i not in used_t and j not in used_d:
            used_t.add(i)
            used_d.add(j)
            matches.append((i, index[j]))
    kinds = [k for _, _, k in passage.pauses]
    start_err, end_err = [], []
    for ta, tb, _ in passage.pauses:
        over = [(da, db) for da, db in scored if da < tb and db > ta]
        if over:
            da, db = min(over, key=lambda d: abs(d[0] - ta) + abs(d[1] - tb))
            start_err.append(da - ta)
            end_err.append(db - tb)
    return PauseScore(
        n_true=len(passage.pauses),
        n_detected=len(scored),
        hits=len(used_t),
        hits_by_kind={k: sum(1 for i in used_t if kinds[i] == k) for k in ("sentence", "mid_phrase")},
        true_by_kind={k: kinds.count(k) for k in ("sentence", "mid_phrase")},
        inside=sum(inside),
        start_err_s=np.array(start_err),
        end_err_s=np.array(end_err),
        matches=sorted(matches),
    )
