import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skvoice.preprocessing import Resampler


def test_matches_librosa_and_keeps_a_tone():
    librosa = pytest.importorskip("librosa")
    sr = 8000
    t = np.arange(sr) / sr
    y = np.sin(2 * np.pi * 440.0 * t).astype(np.float32)
    (out,) = Resampler(sr=sr, target_sr=16000).fit_transform([y])
    ref = librosa.resample(y, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    np.testing.assert_allclose(out, ref, atol=1e-6)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    peak_hz = np.argmax(spectrum) * 16000 / len(out)
    assert abs(peak_hz - 440.0) <= 1.0


@given(
    n=st.integers(200, 4000),
    rates=st.sampled_from([(8000, 16000), (44100, 16000), (48000, 16000), (16000, 16000)]),
)
def test_length_follows_the_rate_ratio(n, rates):
    sr, target = rates
    y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    (out,) = Resampler(sr=sr, target_sr=target).fit_transform([y])
    assert abs(len(out) - n * target / sr) <= 1
    if sr == target:
        np.testing.assert_array_equal(out, y)


def test_a_2d_batch_stays_2d():
    X = np.zeros((3, 800), dtype=np.float32)
    Xt = Resampler(sr=8000, target_sr=16000).fit_transform(X)
    assert isinstance(Xt, np.ndarray) and Xt.shape == (3, 1600)
