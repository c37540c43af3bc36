"""Syllable-nucleus detection for Mandarin speaking-rate estimation.

In Mandarin one character is one syllable and every syllable has exactly one
vocalic nucleus, so counting nuclei estimates the character count without a
transcript.

Method (vectorised; the 10 ms frames of :func:`speechcoach.analysis.features.frame_features`,
so the pipeline's spectrum is reused and no extra FFT is computed):

1. **Cross-band coherence envelope** (after Wang & Narayanan 2007,
   "Robust speaking rate estimation using broad phonetic class recognition /
   subband correlation").  ``Frames.subband_db`` holds the energy of 16
   mel-spaced subbands (150-4000 Hz).  In each frame the ``TOP_BANDS``
   strongest subbands are kept and the mean of their *pairwise products* is
   taken (``((sum x)^2 - sum x^2) / (M (M-1))``, vectorised).  A vowel
   nucleus puts energy into many bands at once, so the product is large;
   a fricative, a noise bump or a single loud harmonic lifts one or two
   bands, and its products with the other, weak, bands stay small.  The
   result is expressed in dB of power (half its own dB value).
2. **Smoothing**: a Gaussian of ``SMOOTH_S`` (s.d.), removes frame jitter.
3. **Peak picking** (:func:`speechcoach.analysis.peaks.find_peaks`).  A nucleus is a local
   maximum of the envelope that

   * rises at least ``MIN_PROMINENCE_DB`` above the dips separating it from
     higher ground (topographic prominence: a level-independent "minimum
     dip" criterion),
   * is at least ``MIN_SPACING_S`` from a stronger nucleus,
   * lies within ``FLOOR_BELOW_LOUD_DB`` of the clip's loud level (0.99
     quantile of the envelope; rejects background between phrases),
   * is at least weakly periodic (``Frames.voicing >= MIN_VOICING``): every
     Mandarin syllable nucleus is voiced, noise bumps and breaths are not.

4. Nuclei must lie inside the voice-activity ``runs`` (if given) - unless they
   are clearly periodic (``voicing >= VOICED_OUTSIDE_RUNS``): in far-field or
   reverberant recordings the segmentation's noise floor can sit under
   quiet speech and the runs then miss whole phrases, while noise outside the
   runs is rarely periodic.

Cost: one sort of a (frames x 16) matrix and a few vector passes; ~0.03 s per
10 minutes on top of :func:`~speechcoach.analysis.features.frame_features` (which the
pipeline computes anyway).

The constants were chosen by grid search with leave-one-source-out
cross-validation on the shared real-speech corpus, with the pipeline's real
speech runs; see ``benchmarks/study_syllables.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np

from .features import Frames, frame_features
from .peaks import find_peaks

# --------------------------------------------------------------------------
# Fixed analysis settings (not tuned)
TOP_BANDS = 8  # subbands (of 16) entering the cross-band product: half the band, so a
#               nucleus needs energy spread over >= ~1.5 kHz; 4-10 all score within 0.5 pt
LOUD_QUANTILE = 0.99  # "loud level" of a clip = this quantile of the envelope (dB)

# --------------------------------------------------------------------------
# Tuned constants (six; LOSO-validated in benchmarks/study_syllables.py)
SMOOTH_S = 0.01  # Gaussian s.d. (s) of envelope smoothing: one frame; removes jitter while
#                  keeping the ~40 ms dips between syllables at 10+ syllables/s
MIN_PROMINENCE_DB = 2.0  # a nucleus must stand this far (dB) above the dips around it
MIN_SPACING_S = 0.07  # minimum spacing of nuclei (s): 14 syllables/s, faster than any speaker
FLOOR_BELOW_LOUD_DB = 30.0  # nuclei must be within this (dB) of the clip's loud level
MIN_VOICING = 0.3  # nuclei need at least this periodicity (0..1): unvoiced bumps are not nuclei
VOICED_OUTSIDE_RUNS = 0.6  # a peak this periodic counts even outside the speech runs
#                            (segmentation.VOICED is 0.55: "sounds periodic")

# --------------------------------------------------------------------------
# Rate calibration (four constants; see :func:`estimate_count`)
RATE_PIVOT = 5.75  # syllables per second of speech (the lobe-width rate, see width_rate) at which the
#                    nucleus count needs no correction
RATE_EXPONENT = 0.4  # power-law stretch of the count away from the pivot: faster -> more, slower -> fewer
RATE_SHRINK_NUCLEI = 100  # a recording with this many nuclei gets half the exponent and half the crowding
#                           term (short ones less)
CROWD_WEIGHT = 1.5  # characters per crowded pair of nuclei beyond CROWD_SHARE (see crowded)
#                     (all four chosen by the LOSO search of benchmarks/study_syllables.py, with the
#                     rate taken from the lobe widths; with the nucleus rate they were 5.0, 0.1, 25, 1.0)
WIDTH_QUANTILE = 0.25  # the rate cue is this quantile of the nuclei's lobe widths (see width_rate; the median
#                        was tried too: LOSO did not take it)
WIDTH_SCALE = 0.342  # lobe widths (WIDTH_QUANTILE, s) times nuclei per second of speech, median over the corpus
#                      clips as recorded: converts a lobe width into a rate (measured by
#                      benchmarks/study_syllables.py, not fitted)
WIDTH_FLOOR_S = 0.005  # a lobe-width quantile under this (half a frame) is held at it
CROWD_GAP_S = 0.095  # two nuclei of one speech run closer than this are a crowded pair: at the 10 ms hop,
#                      70-90 ms apart, at most two frames above MIN_SPACING_S (not tuned here: pairs up to
#                      80, 90, 100 or 110 ms apart were searched by LOSO, and 90 ms won in every fold)
CROWD_SHARE = 0.082  # crowded pairs per nucleus in the corpus clips as recorded: the share at which the
#                      crowding term is zero (measured by benchmarks/study_syllables.py, not fitted)
RATE_RANGE = (3.0, 9.0)  # nuclei/s the calibration is fitted on (corpus clips: 3.0-8.5); a rate
#                          outside is held at the nearer end: the power law is not extrapolated
CHUNK_NUCLEI = 20  # a long recording is calibrated in stretches of consecutive speech runs holding
#                    at least this many nuclei (~4 s of speech), each at its own rate (not tuned:
#                    10-80 all score alike; see estimate_count_runs)

PARAMS = dict(
    smooth_s=SMOOTH_S,
    min_prominence_db=MIN_PROMINENCE_DB,
    min_spacing_s=MIN_SPACING_S,
    floor_below_loud_db=FLOOR_BELOW_LOUD_DB,
    min_voicing=MIN_VOICING,
    voiced_outside_runs=VOICED_OUTSIDE_RUNS,
)


@dataclass
class NucleusTrack:
    """Syllable nuclei and their strengths.

    Attributes
    ----------
    times : np.ndarray
        Nucleus times in seconds, shape (n,), sorted ascending.
    prominence_db : np.ndarray
        Prominence of each nucleus above its surrounding dips, dB, shape (n,).
    level_db : np.ndarray
        Envelope level at each nucleus, dB relative to the clip's loud level
        (so <= ~0), shape (n,).
    width_s : np.ndarray
        Width of each nucleus's lobe of the envelope at half its prominence, seconds, shape (n,)
        (:func:`lobe_widths`).
    """

    times: np.ndarray
    prominence_db: np.ndarray
    level_db: np.ndarray
    width_s: np.ndarray

    @classmethod
    def empty(cls) -> "NucleusTrack":
        z = np.zeros(0)
        return cls(z, z.copy(), z.copy(), z.copy())


def coherence_envelope(frames: Frames) -> np.ndarray:
    """Cross-band coherence envelope in dB (power scale), one value per frame.

    Parameters
    ----------
    frames : Frames
        With ``subband_db`` (shape (T, B)), from :func:`speechcoach.analysis.features.frame_features`.

    Returns
    -------
    np.ndarray
        Shape (T,): half the dB value of the mean pairwise product of the
        ``TOP_BANDS`` strongest subband powers of each frame.
    """
    sb = frames.subband_db
    if sb is None:
        raise ValueError("frames carry no subband energies")
    m = min(TOP_BANDS, sb.shape[1])
    top = np.sort(sb, axis=1)[:, -m:].astype(np.float64)
    p = 10.0 ** (0.1 * (top - top.max(initial=-120.0)))  # relative power, no overflow
    s1, s2 = p.sum(axis=1), np.einsum("ij,ij->i", p, p)
    pair = (s1 * s1 - s2) / max(m * (m - 1), 1)
    return 5.0 * np.log10(np.maximum(pair, 1e-24))


def inside_runs(times: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Boolean mask, shape (n,): which ``times`` fall inside a ``[start, end]`` run."""
    runs = np.asarray(runs, dtype=np.float64).reshape(-1, 2)
    if runs.shape[0] == 0:
        return np.zeros(len(times), dtype=bool)
    runs = runs[np.argsort(runs[:, 0])]
    k = np.searchsorted(runs[:, 0], times, side="right") - 1
    return (k >= 0) & (times <= runs[np.clip(k, 0, None), 1])


def pick_nuclei(frames: Frames, runs: np.ndarray | None = None, *, env_db: np.ndarray | None = None,
                **params) -> NucleusTrack:
    """Pick syllable nuclei from a recording's frame features.

    Parameters
    ----------
    frames : Frames
        Frame features with ``subband_db`` and ``voicing``.
    runs : np.ndarray, optional
        Speech runs ``[start_s, end_s]`` in seconds, shape (k, 2); nuclei
        outside every run are dropped unless clearly voiced.
    env_db : np.ndarray, optional
        Precomputed :func:`coherence_envelope` (for studies).
    **params
        Overrides of the tuned constants (keys of ``PARAMS``), for studies.

    Returns
    -------
    NucleusTrack
        Nucleus times (s), prominences (dB) and levels (dB re loud level),
        each of shape (n,).
    """
    p = {**PARAMS, **params}
    env = coherence_envelope(frames) if env_db is None else env_db
    if env.size < 3:
        return NucleusTrack.empty()
    hop = frames.hop_s
    if p["smooth_s"] > 0:
        env = gaussian_smooth(env, p["smooth_s"] / hop)
    loud = float(np.quantile(env, LOUD_QUANTILE))
    idx, prom = find_peaks(
        env,
        height=loud - p["floor_below_loud_db"],
        prominence=p["min_prominence_db"],
        distance=max(1, int(round(p["min_spacing_s"] / hop))),
    )
    v = frames.voicing[idx]
    keep = v >= p["min_voicing"]
    times = idx * hop  # frame i is centred on i * hop
    if runs is not None:
        keep &= inside_runs(times, runs) | (v >= p["voiced_outside_runs"])
    idx, prom = idx[keep], prom[keep]
    return NucleusTrack(times=times[keep], prominence_db=prom, level_db=env[idx] - loud,
                        width_s=lobe_widths(env, idx, prom) * hop)


WIDTH_REACH = 100  # frames searched on each side of a nucleus for the edge of its lobe (1 s at the 10 ms hop)


def lobe_widths(env: np.ndarray, idx: np.ndarray, prominence: np.ndarray, *, frac: float = 0.5,
                reach: int = WIDTH_REACH) -> np.ndarray:
    """Width of each peak's lobe at ``frac`` of its prominence below its top, in frames.

    The lobe is the stretch of consecutive frames around the peak whose envelope stays at or above
    ``env[i] - frac * prominence``; its two edges are placed by linear interpolation between the
    last frame inside and the first outside (at the signal's ends, or ``reach`` frames out, the
    last frame inside is the edge). Vectorised: one ``(n, reach)`` comparison per side.

    Parameters
    ----------
    env : np.ndarray, shape (T,)
        The (smoothed) envelope, dB.
    idx : np.ndarray of int, shape (n,)
        Peak frames.
    prominence : np.ndarray, shape (n,)
        Their prominences, dB.
    frac : float, keyword-only
        Depth of the cut below the top, as a share of the prominence.
    reach : int, keyword-only
        Most frames searched on each side.

    Returns
    -------
    np.ndarray, shape (n,)
        Widths in frames (multiply by the hop for seconds).
    """
    env = np.asarray(env, dtype=np.float64)
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return np.zeros(0)
    n = env.size
    level = env[idx] - frac * np.asarray(prominence, dtype=np.float64)
    steps = np.arange(1, reach + 1)
    width = np.zeros(idx.size)
    for sign in (-1, 1):
        pos = idx[:, None] + sign * steps  # (n, reach)
        above = (pos >= 0) & (pos < n) & (env[np.clip(pos, 0, n - 1)] >= level[:, None])
        run = np.where(above.all(axis=1), reach, np.argmin(above, axis=1))  # frames inside the lobe on this side
        last = idx + sign * run
        out = last + sign
        cut = (out >= 0) & (out < n) & (run < reach)
        e_in, e_out = env[last], env[np.clip(out, 0, n - 1)]
        width += run + np.where(cut, (e_in - level) / np.maximum(e_in - e_out, 1e-9), 0.0)
    return width


def width_rate(widths: np.ndarray) -> float:
    """Syllables per second of speech implied by the nuclei's lobe widths: ``WIDTH_SCALE / q``,
    ``q`` the :data:`WIDTH_QUANTILE` of ``widths`` (s), held at least :data:`WIDTH_FLOOR_S`;
    ``nan`` for no widths.

    Compressing speech in time narrows every lobe; unlike the nucleus rate it does not depend on
    how many nuclei the envelope shows (see :func:`estimate_count`).
    """
    widths = np.asarray(widths, dtype=np.float64).ravel()
    if widths.size == 0:
        return float("nan")
    return WIDTH_SCALE / max(float(np.quantile(widths, WIDTH_QUANTILE)), WIDTH_FLOOR_S)


def detect_track(y: np.ndarray, sr: int, *, runs: np.ndarray | None = None,
                 frames: Frames | None = None) -> NucleusTrack:
    """Like :func:`detect_nuclei` but also returns per-nucleus strengths.

    Parameters
    ----------
    y : np.ndarray
        Mono signal, shape (n_samples,), float.
    sr : int
        Sampling rate in Hz.
    runs : np.ndarray, optional
        Speech runs ``[start_s, end_s]`` in seconds, shape (k, 2).
    frames : Frames, optional
        ``frame_features(y, sr)`` if already computed (reused, not recomputed).

    Returns
    -------
    NucleusTrack
        Nucleus times (s), prominences (dB) and levels (dB), each shape (n,).
    """
    if frames is None or frames.subband_db is None:
        frames = frame_features(y, sr)
    return pick_nuclei(frames, runs)


def detect_nuclei(y: np.ndarray, sr: int, *, runs: np.ndarray | None = None,
                  frames: Frames | None = None) -> np.ndarray:
    """Times in seconds of syllable nuclei.

    Parameters
    ----------
    y : np.ndarray
        Mono float32 signal, shape (n_samples,), at ``sr`` (the pipeline
        always passes 16000).
    sr : int
        Sampling rate in Hz.
    runs : np.ndarray, optional
        Speech runs ``[start_s, end_s]`` in seconds, shape (k, 2), from the
        pipeline's voice-activity segmentation; nuclei outside runs are
        dropped unless clearly periodic.
    frames : Frames, optional
        The pipeline's ``frame_features(y, sr)``; when given, its spectrum
        (subband energies, voicing) is reused and nothing is recomputed.

    Returns
    -------
    np.ndarray
        Nucleus times in seconds, shape (n,), sorted ascending.
    """
    return detect_track(y, sr, runs=runs, frames=frames).times


def crowded(nuclei: np.ndarray, runs: np.ndarray, *, gap: float = CROWD_GAP_S) -> np.ndarray:
    """Which nuclei open a *crowded pair*: the next nucleus, in the same speech run, is closer than ``gap``.

    The picker keeps nuclei at least ``MIN_SPACING_S`` apart, so the intervals between nuclei are
    cut off at that floor. When speech gets faster the whole interval distribution slides toward
    the floor: more pairs land just above it, and more pairs that would have landed below it
    are merged into one nucleus. The pairs just above the floor are therefore a count of the
    pairs it removed. Unlike the nucleus rate, which mixes how fast someone talks with how many
    of their syllables the envelope shows, the share of such pairs rises with compression in
    time (corpus clips: 0.082 per nucleus as recorded, 0.124 at x 0.78, 0.065 at x 1.12).

    Parameters
    ----------
    nuclei : np.ndarray, shape (m,)
        Nucleus times in seconds, any order.
    runs : np.ndarray, shape (k, 2)
        Speech runs (start, end) in seconds, in order; a nucleus belongs to its :func:`nearest_run`.
    gap : float, keyword-only
        Seconds; pairs closer than this are crowded.

    Returns
    -------
    np.ndarray of bool, shape (m,)
        In the order given; the pair's later nucleus is not marked (each pair counts once).
    """
    nuclei = np.asarray(nuclei, dtype=np.float64).ravel()
    runs = np.asarray(runs, dtype=np.float64).reshape(-1, 2)
    out = np.zeros(len(nuclei), dtype=bool)
    if len(nuclei) < 2 or len(runs) == 0:
        return out
    order = np.argsort(nuclei, kind="stable")
    t = nuclei[order]
    cell = nearest_run(t, runs)
    out[order[:-1]] = (np.diff(t) < gap) & (cell[1:] == cell[:-1])
    return out


@overload
def estimate_count(n_nuclei: int, speech_s: float, *, crowded: int, rate: float | None = ..., pivot: float = ...,
                   exponent: float = ..., shrink: float = ..., crowd_weight: float = ..., crowd_share: float = ...) -> int: ...


@overload
def estimate_count(n_nuclei: np.ndarray, speech_s: float | np.ndarray, *, crowded: int | np.ndarray,
                   rate: float | np.ndarray | None = ..., pivot: float = ..., exponent: float = ...,
                   shrink: float = ..., crowd_weight: float = ..., crowd_share: float = ...) -> np.ndarray: ...


def estimate_count(n_nuclei: int | np.ndarray, speech_s: float | np.ndarray, *, crowded: int | np.ndarray,
                   rate: float | np.ndarray | None = None, pivot: float = RATE_PIVOT, exponent: float = RATE_EXPONENT, shrink: float = RATE_SHRINK_NUCLEI,
                   crowd_weight: float = CROWD_WEIGHT, crowd_share: float = CROWD_SHARE) -> int | np.ndarray:
    """Character estimate from a nucleus count, calibrated for the speaking rate.

    Counting envelope peaks compresses rates toward the middle. In fast speech neighbouring
    syllables share one peak with no dip between them (coarticulation, reduced neutral-tone
    syllables), so nuclei are missed; in slow speech a long vowel or a dipping tone can show two
    peaks. On the corpus clips the count errs by about +10 % at 3 characters per second of speech
    and about -15 % at 7, and clips compressed in time (WSOLA, x 0.78) lose ~8 % more nuclei.

    The calibration undoes that compression with a power law around a pivot rate:
    ``n * (rate / pivot) ** e``, with ``e = exponent * n / (n + shrink)`` and ``rate`` the
    :func:`width_rate` of the nuclei's lobe widths when given, else the nucleus rate ``n / speech_s``.
    At the pivot nothing changes; a recording counted 20 % faster than the pivot gains
    ``1.2 ** 0.3 - 1 = 5.6 %``. Rates outside :data:`RATE_RANGE`, which the corpus does not
    cover, are held at its nearer end, so very slow or very fast speech is corrected no more
    than the fitted data support (at most about -14 % and +19 %). The exponent is shrunk for
    short recordings, whose rate rests on a handful of nuclei (one more or less moves it by
    10 %): half of it at ``shrink`` nuclei, ~90 % for a one-minute recording. The three
    constants were chosen by leave-one-source-out grid search on the clips together with their
    compressed and slowed copies, counting every character alike
    (``benchmarks/study_syllables.py``).

    The nucleus rate alone moves too little when speech is compressed (the nuclei it would need
    are the ones lost), so a second term counts the :func:`crowded` pairs: every crowded pair
    beyond ``crowd_share`` per nucleus adds ``crowd_weight`` characters (fewer than usual take
    as many away), shrunk for short recordings like the exponent, ``n / (n + shrink)``. With it
    the search takes a flatter power law (exponent 0.1 instead of 0.3): on the corpus clips and
    their copies (leave-one-source-out) and the benchmark passages, crowding tracks the lost
    syllables better than the rate does (``docs/estimator.md``).

    The rate itself is best taken from the *widths* of the nuclei's lobes (:func:`width_rate`),
    not from their number: the nucleus rate falls short exactly where syllables merge, while every
    lobe narrows when speech gets faster. ``WIDTH_SCALE / q25`` of the lobe widths at half
    prominence (``WIDTH_SCALE``, 0.342, the median of ``q25 * nucleus rate`` on the corpus clips, is
    measured, not fitted) replaced the nucleus rate in every fold of the LOSO search when offered as
    ``nucleus rate * (width rate / nucleus rate) ** b``, b in 0-1 (b = 1 in 9 of 10 folds, 0.75 in
    the other); the four constants were re-chosen with it (pivot 5.75, exponent 0.4, shrink 100,
    crowding weight 1.5; before: 5.0, 0.1, 25, 1.0). Clips LOSO 7.3 % -> 6.6 %, benchmark passages
    pooled over ten seeds 5.2 % -> 5.0 %, five fresh seeds 5.4 % -> 4.9 % (``docs/estimator.md``).
    Without widths the nucleus rate stands in, with the same constants (less accurate).

    Parameters
    ----------
    n_nuclei : int or np.ndarray
        Detected syllable nuclei (arrays broadcast with ``speech_s``, for studies).
    speech_s : float or np.ndarray
        Seconds of speech (the speech runs, pauses excluded); ``<= 0`` leaves out the rate
        correction (not the crowding term) unless ``rate`` is given.
    crowded : int or np.ndarray, keyword-only
        How many of the nuclei open a crowded pair (:func:`crowded`, summed).
    rate : float or np.ndarray, keyword-only, optional
        Syllables per second from :func:`width_rate`; ``None`` (or ``nan`` entries): the
        nucleus rate ``n / speech_s``.
    pivot, exponent, shrink : float, keyword-only
        Nuclei per second of speech where the count is left alone; the power-law exponent;
        the nucleus count at which half the exponent (and half the crowding term) applies.
    crowd_weight, crowd_share : float, keyword-only
        Characters per crowded pair beyond the usual share; that share (per nucleus).

    Returns
    -------
    int or np.ndarray of int
        Estimated characters, ``>= 0`` (an int for scalar input).
    """
    n = np.maximum(np.asarray(n_nuclei, dtype=np.float64), 0.0)
    e = _shrunk_exponent(n, exponent, shrink)
    cal = _calibrated(n, np.asarray(speech_s, dtype=np.float64), pivot=pivot, e=e, rate=rate)
    crowd = _shrunk_exponent(n, crowd_weight, shrink) * (np.asarray(crowded, dtype=np.float64) - crowd_share * n)
    est = np.rint(np.maximum(cal + crowd, 0.0)).astype(np.int64)
    return int(est) if est.ndim == 0 else est


def _shrunk_exponent(n: float | np.ndarray, exponent: float, shrink: float) -> float | np.ndarray:
    """The calibration exponent (or crowding weight) for a recording of ``n`` nuclei: ``exponent * n / (n + shrink)``."""
    return exponent * n / (n + max(shrink, 1e-9))


def _calibrated(n: np.ndarray, speech_s: np.ndarray, *, pivot: float, e: float | np.ndarray,
                rate: float | np.ndarray | None = None) -> np.ndarray:
    """``n * (rate / pivot) ** e`` with ``rate`` (where given and finite, else ``n / speech_s``) held
    inside :data:`RATE_RANGE` (a count with no rate to go by, or no nuclei, is left as is); unrounded,
    broadcast."""
    shape = np.broadcast(n, speech_s).shape
    r = np.divide(n, speech_s, out=np.full(shape, float(pivot)), where=(speech_s > 0) & (n > 0))
    if rate is not None:
        given = np.broadcast_to(np.asarray(rate, dtype=np.float64), shape)
        r = np.where(np.isfinite(given) & (n > 0), given, r)
    return n * (np.clip(r, *RATE_RANGE) / pivot) ** e


def nearest_run(times: np.ndarray, runs: np.ndarray) -> np.ndarray:
    """Index of the speech run each time belongs to: the nearest one, the boundaries halfway
    through each pause (a nucleus the runs missed, in a pause, goes with the closer side).

    Parameters
    ----------
    times : np.ndarray, shape (m,)
        Times in seconds.
    runs : np.ndarray, shape (k, 2)
        Speech runs (start, end) in seconds, in order, ``k >= 1``.

    Returns
    -------
    np.ndarray of int, shape (m,)
        Run indices, ``0 <= index < k``.
    """
    runs = np.asarray(runs, dtype=np.float64).reshape(-1, 2)
    return np.searchsorted((runs[1:, 0] + runs[:-1, 1]) / 2, np.asarray(times, dtype=np.float64))


def nucleus_weights(nuclei: np.ndarray, runs: np.ndarray, *, widths: np.ndarray | None = None,
                    chunk: int = CHUNK_NUCLEI) -> np.ndarray:
    """Characters each nucleus stands for, calibrated for the rate where it was spoken.

    The calibration of :func:`estimate_count` is not linear in the rate, so a recording that is
    fast in one part and slow in another is not corrected like one at its average rate. The
    speech runs are grouped, in order, into stretches holding at least ``chunk`` nuclei (the
    last stretch joins the one before when it falls short), and each stretch is counted like a
    recording of its own: ``n_s * (rate / pivot) ** e`` for its ``n_s`` nuclei at its rate, with
    the exponent ``e`` of the whole recording (its shrinkage depends on how many nuclei the
    recording has, not the stretch), plus the crowding term of :func:`estimate_count` at the
    stretch's share ``s`` of :func:`crowded` nuclei, ``c * (s - CROWD_SHARE)`` per nucleus with
    ``c = CROWD_WEIGHT * n / (n + RATE_SHRINK_NUCLEI)`` for the recording's ``n`` nuclei. The
    stretch's rate is the :func:`width_rate` of its nuclei's lobe widths when ``widths`` are given
    (on the passages, pooled over ten seeds, 5.0 % against 5.3 % with one width rate for the whole
    recording), else its nucleus rate. A recording with fewer than ``2 * chunk`` nuclei is one
    stretch. The weights sum to the stretches' counts added up.

    Within that total, every nucleus weighs in proportion to ``(nucleus rate / pivot) ** e`` of
    its stretch (the rate held inside :data:`RATE_RANGE`): the lobe widths and the crowded pairs of ~20 nuclei (a q25 of 20 widths, one or
    two crowded pairs) are too few to say how fast one stretch was against another, though summed
    over the recording they count it better. No constant is added: the exponent and pivot are the
    count's.

    The weights make the no-script count (:func:`estimate_count_runs`, their sum) and the local
    rates of the pace series: counting nuclei alone flattens the pace as it flattens the count
    (fast stretches lose nuclei, slow ones gain). On the benchmark passages (ten seeds, 120 of
    them, pieces from different speakers) the spread (CV) of the pieces' rates comes out at 0.73
    of the true spread with every nucleus weighing the same and 0.89 with these weights, a piece's
    rate (the passage's own error taken out) off by a median 8.3 % and 8.6 %; with the count's own
    per-stretch width rate and crowding term as the shape, 1.13 and 11.0 % (the nucleus rate with
    the stretch's crowding term, 1.10 and 10.0 %; before the lobe-width rate, 0.93 and 8.8 %).
    Scratch study, 2026-11-29 (``docs/estimator.md``).

    Parameters
    ----------
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s), from :func:`detect_nuclei`.
    runs : np.ndarray, shape (k, 2)
        Speech runs (start, end) in seconds, in order; a nucleus belongs to its
        :func:`nearest_run` (nuclei in pauses come from clearly voiced speech the runs missed).
    widths : np.ndarray, shape (m,), keyword-only, optional
        Each nucleus's lobe width (s, :attr:`NucleusTrack.width_s`), in the order of ``nuclei``;
        without them the nucleus rate stands in.
    chunk : int, keyword-only
        Fewest nuclei in a stretch.

    Returns
    -------
    np.ndarray, shape (m,)
        One weight per nucleus, in the order given (all 1 when there are no runs).
    """
    nuclei = np.asarray(nuclei, dtype=np.float64).ravel()
    runs = np.asarray(runs, dtype=np.float64).reshape(-1, 2)
    n = len(nuclei)
    if n == 0 or len(runs) == 0:
        return np.ones(n)
    cell = nearest_run(nuclei, runs)
    counts = np.bincount(cell, minlength=len(runs))
    durations = runs[:, 1] - runs[:, 0]
    stretch_of_run = np.zeros(len(runs), dtype=np.int64)
    stretches: list[list[float]] = [[0.0, 0.0]]  # [nuclei, seconds of speech] (one pass over the runs)
    for i, (c, d) in enumerate(zip(counts, durations)):
        if stretches[-1][0] >= chunk:
            stretches.append([0.0, 0.0])
        stretches[-1][0] += c
        stretches[-1][1] += d
        stretch_of_run[i] = len(stretches) - 1
    if len(stretches) > 1 and stretches[-1][0] < chunk:
        tail = stretches.pop()
        stretches[-1] = [stretches[-1][0] + tail[0], stretches[-1][1] + tail[1]]
        stretch_of_run = np.minimum(stretch_of_run, len(stretches) - 1)
    n_s, t_s = np.array(stretches).T
    e = _shrunk_exponent(n, RATE_EXPONENT, RATE_SHRINK_NUCLEI)
    of_stretch = stretch_of_run[cell]
    rate = None
    if widths is not None:
        widths = np.asarray(widths, dtype=np.float64).ravel()
        if widths.shape != nuclei.shape:
            raise ValueError(f"widths {widths.shape} do not match nuclei {nuclei.shape}")
        order = np.argsort(of_stretch, kind="stable")  # the widths grouped by stretch, in one pass
        groups = np.split(widths[order], np.cumsum(np.bincount(of_stretch, minlength=len(n_s)))[:-1])
        rate = np.array([width_rate(g) for g in groups])
    factor = _calibrated(n_s, t_s, pivot=RATE_PIVOT, e=e, rate=rate) / np.maximum(n_s, 1.0)
    share = np.bincount(of_stretch, weights=crowded(nuclei, runs), minlength=len(n_s)) / np.maximum(n_s, 1.0)
    crowd = _shrunk_exponent(n, CROWD_WEIGHT, RATE_SHRINK_NUCLEI) * (share - CROWD_SHARE)
    total = float(np.dot(n_s, np.maximum(factor + crowd, 0.0)))  # the count (summed by stretch: not order-dependent)
    # how the count is shared out: the power law at each stretch's nucleus rate alone (the lobe
    # widths and the crowded pairs of ~20 nuclei are too few to place it; they set only the total)
    shape = _calibrated(n_s, t_s, pivot=RATE_PIVOT, e=e) / np.maximum(n_s, 1.0)
    return (shape * (total / float(np.dot(n_s, shape))))[of_stretch]


def estimate_count_runs(nuclei: np.ndarray, runs: np.ndarray, *, widths: np.ndarray | None = None,
                        chunk: int = CHUNK_NUCLEI) -> int:
    """Character estimate of a whole recording: its :func:`nucleus_weights` summed.

    A recording with fewer than ``2 * chunk`` nuclei is one stretch, and the result equals
    ``estimate_count(len(nuclei), speech_s, crowded=crowded(nuclei, runs).sum(), rate=width_rate(widths))``. On the
    benchmark passages (clips of many speakers joined, 60 of them) calibrating stretch by
    stretch lowered the mean rate error without a script from 5.5 % to 5.3 % (before the
    crowding term), better on four of the five seeds; of the corpus clips and their
    time-scaled copies, two in 165 change, by one character.

    Parameters
    ----------
    nuclei : np.ndarray, shape (m,)
        Syllable-nucleus times (s).
    runs : np.ndarray, shape (k, 2)
        Speech runs in seconds.
    widths : np.ndarray, shape (m,), keyword-only, optional
        The nuclei's lobe widths (s); without them the nucleus rate stands in.
    chunk : int, keyword-only
        Fewest nuclei in a stretch.

    Returns
    -------
    int
        Estimated characters, ``>= 0``.
    """
    return weighted_count(nucleus_weights(nuclei, runs, widths=widths, chunk=chunk))


def weighted_count(weights: np.ndarray) -> int:
    """The characters that nuclei of these :func:`nucleus_weights` stand for: their sum, rounded."""
    return int(np.rint(np.sum(weights)))


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing of a 1-D array, ``sigma`` in samples, edges held at their values."""
    radius = max(1, int(4.0 * sigma + 0.5))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.concatenate([np.full(radius, x[0]), x, np.full(radius, x[-1])])
    return np.convolve(padded, k, mode="valid")
