import librosa
import numpy as np
import pytest

from skvoice.preprocessing import MFCCStatistics


@pytest.mark.parametrize("drop_c0", [True, False])
def test_equals_librosa_mfcc_mean_and_std(voices, drop_c0):
    X = voices.data[:3]
    stats = MFCCStatistics(n_mfcc=13, n_mels=40, drop_c0=drop_c0).fit_transform(X)
    first = 1 if drop_c0 else 0
    for row, y in zip(stats, X):
        # librosa's MFCC of the same log-mel spectrogram (top_db=80 as ours).
        m = librosa.feature.mfcc(
            y=y, sr=16000, n_mfcc=13, n_mels=40, n_fft=512, hop_length=160, pad_mode="constant"
        )[first:]
        ref = np.r_[m.mean(axis=1), m.std(axis=1)]
        np.testing.assert_allclose(row, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    assert stats.shape == (3, 2 * (13 - first))


def test_feature_names_and_pandas_output(voices):
    est = MFCCStatistics(n_mfcc=4).set_output(transform="pandas")
    df = est.fit_transform(voices.data[:2])
    assert list(df.columns) == [f"mfcc{i}_{s}" for s in ("mean", "std") for i in (1, 2, 3)]


def test_more_coefficients_than_bands_is_an_error(voices):
    with pytest.raises(ValueError, match="n_mfcc=30 exceeds n_mels=20"):
        MFCCStatistics(n_mfcc=30, n_mels=20).fit(voices.data[:1])
