import matplotlib
import numpy as np

from skvoice.eda import (
    duration_table,
    f0_table,
    mean_intensity_per_frequency,
    plot_corpus,
    recordings_per_speaker,
)
from skvoice.preprocessing import SilenceTrimmer

matplotlib.use("Agg")


def test_tables(voices):
    t = recordings_per_speaker(voices.speaker, voices.target)
    assert t["recordings"].sum() == len(voices.data)
    assert set(t["speaker"][t["allowed"]]) == set(voices.allowed)
    d = duration_table(voices.data, voices.speaker, voices.sr)
    np.testing.assert_allclose(
        d["after"], SilenceTrimmer().fit(voices.data).durations(voices.data)[:, 1]
    )
    f = f0_table(voices.data, voices.speaker, voices.sr)
    # Median F0 per speaker near the true one.
    for s in np.unique(voices.speaker):
        truth = np.nanmedian(
            np.concatenate([voices.f0[i] for i in np.flatnonzero(voices.speaker == s)])
        )
        est = np.median(np.asarray(f["f0"])[np.asarray(f["speaker"]) == s])
        assert abs(est / truth - 1) < 0.05


def test_intensity_of_a_tone_peaks_at_its_frequency():
    t = np.arange(16000) / 16000
    X = [np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 2000 * t)]
    r = mean_intensity_per_frequency(X, ["low", "high"])
    peaks = r.frequencies[np.argmax(r.intensity, axis=1)]
    assert r.speakers.tolist() == ["high", "low"]
    assert abs(np.log2(peaks[0] / 2000)) < 0.2 and abs(np.log2(peaks[1] / 300)) < 0.2


def test_plot(voices):
    import matplotlib.pyplot as plt

    fig = plot_corpus(voices.data, voices.speaker, voices.target, voices.sr)
    assert len(fig.axes) == 6
    plt.close(fig)
