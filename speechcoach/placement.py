"""Pauses and where they fall: at a sentence end, a clause break, or in mid-phrase.

Until a script is aligned to the recording, a pause's place in the text is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PLACEMENTS = ("sentence", "clause", "mid_phrase", "unknown")


@dataclass(frozen=True)
class Pause:
    """A silence inside the speech span.

    Attributes
    ----------
    start_s, end_s : float
        Edges in seconds.
    placement : str
        One of :data:`PLACEMENTS`.
    char_index : int or None
        Index in the script of the last character before the pause, when a script was aligned.
    context : str or None
        A few characters either side, e.g. ``…办理退休认证 ⏸0.8s 需要带…``.
    """

    start_s: float
    end_s: float
    placement: str = "unknown"
    char_index: int | None = None
    context: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def unplaced(pauses: np.ndarray) -> tuple[Pause, ...]:
    """Pauses from an array of ``[start_s, end_s]`` rows, placement unknown."""
    return tuple(Pause(float(a), float(b)) for a, b in pauses)
