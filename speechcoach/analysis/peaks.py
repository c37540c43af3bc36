"""Peak picking on a 1-D envelope: local maxima filtered by height, spacing and prominence.

The semantics follow the usual topographic definitions (as in ``scipy.signal.find_peaks``,
which the tests compare against), written in numpy so that the analysis does not pay for
importing ``scipy.signal`` (about half a second) at every start of the command line.
"""

from __future__ import annotations

import numpy as np


def local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of local maxima of ``x``; a flat top counts once, at its middle (rounded down).

    Parameters
    ----------
    x : np.ndarray, shape (n,)

    Returns
    -------
    np.ndarray of int, shape (m,)
    """
    x = np.asarray(x, dtype=float)
    if x.size < 3:
        return np.zeros(0, dtype=int)
    d = np.diff(x)
    nz = np.flatnonzero(d)  # steps that change the value
    if nz.size < 2:
        return np.zeros(0, dtype=int)
    rising = d[nz] > 0
    # a maximum sits between a rising step nz[k] and the next falling step nz[k+1]
    top = np.flatnonzero(rising[:-1] & ~rising[1:])
    left = nz[top] + 1  # first index of the flat top
    right = nz[top + 1]  # last index of the flat top
    return (left + right) // 2


def prominences(x: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Topographic prominence of each peak: its height above the higher of its two bases.

    A base is the lowest point between the peak and the nearest strictly higher point on that
    side (or the signal's end). Only the local maxima of ``x`` can be such higher points' first
    witnesses, so the search runs over maxima with a stack (a loop over peaks, not frames).

    Parameters
    ----------
    x : np.ndarray, shape (n,)
    peaks : np.ndarray of int, shape (k,)
        Indices of local maxima of ``x``.

    Returns
    -------
    np.ndarray, shape (k,)
    """
    x = np.asarray(x, dtype=float)
    if len(peaks) == 0:
        return np.zeros(0)
    maxima = local_maxima(x)
    heights = x[maxima]
    left_higher = _nearest_higher(heights)  # index into maxima, -1 when none
    right_higher = _nearest_higher(heights[::-1])
    right_higher = np.where(right_higher < 0, -1, len(maxima) - 1 - right_higher)[::-1]

    pos = np.searchsorted(maxima, peaks)
    lo = np.where(left_higher[pos] < 0, 0, maxima[np.maximum(left_higher[pos], 0)])
    hi = np.where(right_higher[pos] < 0, len(x) - 1, maxima[np.maximum(right_higher[pos], 0)])
    rmq = _RangeMin(x)
    left_base = rmq.query(lo, peaks)
    right_base = rmq.query(peaks, hi)
    return x[peaks] - np.maximum(left_base, right_base)


def find_peaks(x: np.ndarray, *, height: float, prominence: float, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Local maxima at least ``height`` high, ``distance`` samples from a higher kept peak,
    and rising ``prominence`` above their bases.

    Returns
    -------
    peaks : np.ndarray of int, shape (k,)
    prominences : np.ndarray, shape (k,)
    """
    x = np.asarray(x, dtype=float)
    peaks = local_maxima(x)
    peaks = peaks[x[peaks] >= height]
    if distance > 1 and len(peaks) > 1:
        peaks = _by_distance(x, peaks, distance)
    prom = prominences(x, peaks)
    keep = prom >= prominence
    return peaks[keep], prom[keep]


def _nearest_higher(h: np.ndarray) -> np.ndarray:
    """For each element, the index of the nearest earlier element strictly greater (or -1)."""
    out = np.full(len(h), -1, dtype=int)
    stack: list[int] = []
    for i, v in enumerate(h.tolist()):
        while stack and h[stack[-1]] <= v:
            stack.pop()
        out[i] = stack[-1] if stack else -1
        stack.append(i)
    return out


def _by_distance(x: np.ndarray, peaks: np.ndarray, distance: int) -> np.ndarray:
    """Drop peaks closer than ``distance`` to a higher kept peak (highest first)."""
    keep = np.ones(len(peaks), dtype=bool)
    order = np.argsort(x[peaks], kind="stable")[::-1]
    for i in order.tolist():
        if not keep[i]:
            continue
        j = i - 1
        while j >= 0 and peaks[i] - peaks[j] < distance:
            keep[j] = False
            j -= 1
        j = i + 1
        while j < len(peaks) and peaks[j] - peaks[i] < distance:
            keep[j] = False
            j += 1
    return peaks[keep]


class _RangeMin:
    """Minimum of ``x[a:b+1]`` for many (a, b) at once (sparse table, O(n log n) to build)."""

    def __init__(self, x: np.ndarray) -> None:
        self.levels = [x]
        k = 1
        while 2 * k <= len(x):
            prev = self.levels[-1]
            self.levels.append(np.minimum(prev[:-k], prev[k:]))
            k *= 2

    def query(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.asarray(a, dtype=int)
        b = np.asarray(b, dtype=int)
        length = b - a + 1
        lvl = np.floor(np.log2(np.maximum(length, 1))).astype(int)
        out = np.empty(len(a))
        for j in np.unique(lvl).tolist():
            m = lvl == j
            table = self.levels[j]
            out[m] = np.minimum(table[a[m]], table[b[m] - (1 << j) + 1])
        return out
