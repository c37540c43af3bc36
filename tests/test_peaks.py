"""The numpy peak picker agrees with scipy.signal.find_peaks on random envelopes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks as scipy_find_peaks

from speechcoach.analysis.peaks import find_peaks, local_maxima
from speechcoach.analysis.syllables import gaussian_smooth


@pytest.mark.parametrize("seed", range(40))
def test_same_peaks_and_prominences_as_scipy(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, int(rng.integers(5, 600))).cumsum()
    kw = dict(height=float(rng.normal(0, 3)), prominence=float(abs(rng.normal(0, 2))), distance=int(rng.integers(1, 9)))
    want, props = scipy_find_peaks(x, **kw)
    got, prom = find_peaks(x, **kw)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(prom, props["prominences"], atol=1e-12)


def test_flat_top_counts_once_at_its_middle():
    x = np.array([0, 1, 3, 3, 3, 3, 1, 0, 2, 0], dtype=float)
    np.testing.assert_array_equal(local_maxima(x), [3, 8])


def test_gaussian_smooth_matches_scipy():
    x = np.random.default_rng(1).normal(size=300)
    np.testing.assert_allclose(gaussian_smooth(x, 1.5), gaussian_filter1d(x, 1.5, mode="nearest"), atol=1e-12)
