"""What the recogniser heard: words and segments with their times, as plain data.

Kept apart from :mod:`speechcoach.precise.asr` (which makes them) and
:mod:`speechcoach.precise.cache` (which stores them), so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Word:
    """One recognised word with its time in the recording (s)."""

    start_s: float
    end_s: float
    text: str
    probability: float | None = None
    """The recogniser's mean probability of the word's tokens (0–1), read again over the whole
    window's text when word times are aligned; None when unknown."""


@dataclass(frozen=True)
class Segment:
    """One recognised stretch of text with its time in the recording (s)."""

    start_s: float
    end_s: float
    text: str
    loop: bool = False
    """Rejected by :func:`speechcoach.precise.asr.is_loop` (decoding loop, byte garbage, invented text): its text is
    neither counted nor shown (:meth:`Transcript.to_dict`), its words are dropped."""
    avg_logprob: float | None = None
    """Mean log-probability per token of the decoding pass that wrote it (Whisper's signal, one
    value per 30 s window pass); None when unknown."""
    compression_ratio: float | None = None
    """gzip compression ratio of that pass's text (high: repetitive text)."""
    no_speech_prob: float | None = None
    """The model's probability that the pass's window holds no speech."""


@dataclass(frozen=True)
class Transcript:
    """What the recogniser heard.

    Attributes
    ----------
    text : str
        The whole transcript.
    segments : tuple of Segment
    words : tuple of Word
        Word-level times (Whisper's cross-attention alignment).
    model : str
        Folder name of the model used.
    compute_s : float
        Wall-clock seconds spent recognising.
    """

    text: str
    segments: tuple[Segment, ...]
    words: tuple[Word, ...]
    model: str = ""
    compute_s: float = 0.0
    raw_text: str | None = None
    """Everything the decoder wrote, rejected segments included (``text`` leaves them out)."""
    withheld: bool = False
    """Set by :func:`speechcoach.analysis.fusion.trusted`: the count check overruled most of the transcript, so none of it
    is shown or used (``text`` is empty, every stretch is ``rejected``)."""

    def to_dict(self) -> dict[str, Any]:
        """The report's ``transcript`` entry.

        Segments rejected as decoding loops or invented text, and the stretches the count check
        overruled (``Segment.loop``, see :func:`speechcoach.analysis.fusion.trusted`), are not shown: only their times are
        listed under ``rejected``. ``withheld`` is true when the whole text was set aside.
        """
        return {
            "withheld": self.withheld,
            "text": self.text,
            "source": "asr",
            "model": self.model,
            "segments": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "text": s.text} for s in self.segments if not s.loop],
            "words": [{"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "text": w.text} for w in self.words],
            "rejected": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)} for s in self.segments if s.loop],
        }
