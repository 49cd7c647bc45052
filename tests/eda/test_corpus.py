import matplotlib
import numpy as np
import pytest

from skvoice.eda import (
    F0TrackDisplay,
    SpeakerCountDisplay,
    duration_table,
    f0_table,
    mean_intensity_per_frequency,
    plot_corpus,
    recordings_per_speaker,
)
from skvoice.preprocessing import SilenceTrimmer

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_tables(voices):
    t = recordings_per_speaker(voices.speaker, voices.target)
    assert t["recordings"].sum() == len(voices.data)
    assert set(t["speaker"][t["allowed"]]) == set(voices.allowed)
    f = f0_table(voices.data, voices.speaker, voices.sr)
    # Median F0 per speaker near the true one.
    for s in np.unique(voices.speaker):
        truth = np.nanmedian(
            np.concatenate([voices.f0[i] for i in np.flatnonzero(voices.speaker == s)])
        )
        est = np.median(np.asarray(f["f0"])[np.asarray(f["speaker"]) == s])
        assert abs(est / truth - 1) < 0.05


def test_duration_table_of_known_silences():
    # 1 s of tone between silences of known length: "before" is the file's
    # length, "after" the tone's, to within the trimmer's frame resolution.
    sr = 16000
    tone = 0.5 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr).astype(np.float32)
    X = [
        np.concatenate([np.zeros(sr // 2, np.float32), tone, np.zeros(sr // 2, np.float32)]),
        np.concatenate([np.zeros(sr, np.float32), tone, np.zeros(2 * sr, np.float32)]),
    ]
    d = duration_table(X, ["a", "b"], sr, trimmer=SilenceTrimmer(frame_length=512, hop_length=128))
    assert list(d["speaker"]) == ["a", "b"]
    np.testing.assert_allclose(d["before"], [2.0, 4.0])
    np.testing.assert_allclose(d["after"], [1.0, 1.0], atol=512 / sr)


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


# --- Displays ----------------------------------------------------------------


def test_speaker_count_display_bars_and_colours():
    from matplotlib.colors import to_hex

    from skvoice.eda import SpeakerCountDisplay

    disp = SpeakerCountDisplay.from_labels(["b", "a", "b", "c", "b"], [0, 1, 0, 1, 0])
    heights = [p.get_height() for p in disp.ax_.patches]
    colours = [to_hex(p.get_facecolor()) for p in disp.ax_.patches]
    labels = [t.get_text() for t in disp.ax_.get_xticklabels()]
    # Allowed speakers first, as in every other panel of the corpus figure.
    assert labels == ["a", "c", "b"] and heights == [1, 1, 3]
    assert colours[0] == colours[1] == to_hex("tab:green") != colours[2]
    plt.close(disp.figure_)


def test_every_corpus_panel_orders_speakers_alike(voices):
    from skvoice.eda import DurationDisplay, SpeakerCountDisplay

    count = SpeakerCountDisplay.from_labels(voices.speaker, voices.target)
    duration = DurationDisplay.from_recordings(
        voices.data, voices.speaker, voices.target, voices.sr
    )
    first = [t.get_text() for t in count.ax_.get_xticklabels()]
    second = [t.get_text() for t in duration.ax_.get_xticklabels()]
    assert first == second[: len(first)] or first == second
    plt.close("all")


def test_duration_display_medians_match_the_table(voices):
    from skvoice.eda import DurationDisplay

    disp = DurationDisplay.from_recordings(voices.data, voices.speaker, voices.target, voices.sr)
    table = duration_table(voices.data, voices.speaker, voices.sr)
    # Allowed speakers come first on the axis.
    names = [t.get_text() for t in disp.ax_.get_xticklabels()]
    n_allowed = len(voices.allowed)
    assert set(names[:n_allowed]) == {str(s) for s in voices.allowed}
    # boxplot draws caps and whiskers too; the medians are the black lines.
    med_lines = [
        line for line in disp.ax_.lines if line.get_color() == "k" and len(line.get_xdata()) == 2
    ]
    assert len(med_lines) == 2 * len(names)
    spk = np.asarray(table["speaker"])
    expected_before = [np.median(np.asarray(table["before"])[spk == n]) for n in names]
    got_before = [line.get_ydata()[0] for line in med_lines[: len(names)]]
    np.testing.assert_allclose(got_before, expected_before)
    plt.close(disp.figure_)


def test_intensity_display_draws_the_result():
    from skvoice.eda import IntensityDisplay

    t = np.arange(16000) / 16000
    X = [np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 2000 * t)]
    disp = IntensityDisplay.from_recordings(X, ["low", "high"], [0, 1])
    r = disp.result
    for line, row in zip(disp.lines_, r.intensity):
        np.testing.assert_array_equal(line.get_ydata(), row)
    assert [line.get_linestyle() for line in disp.lines_] == ["-", "--"]  # high allowed
    assert disp.ax_.get_xscale() == "log"
    plt.close(disp.figure_)


def test_f0_track_display_follows_a_known_pitch():
    from skvoice.eda import F0TrackDisplay

    sr = 16000
    t = np.arange(sr) / sr
    f = 140.0 * (1 + 0.2 * t)  # glide 140 -> 168 Hz
    x = sum(np.sin(2 * np.pi * k * np.cumsum(f) / sr) / k for k in range(1, 6))
    disp = F0TrackDisplay.from_recordings([x], [0], sr)
    track = disp.axes_[0, 0].lines[0].get_ydata()
    times = disp.axes_[0, 0].lines[0].get_xdata()
    voiced = ~np.isnan(track)
    assert voiced.mean() > 0.8
    truth = 140.0 * (1 + 0.2 * times[voiced])
    cents = 1200 * np.abs(np.log2(track[voiced] / truth))
    assert np.median(cents) < 20
    plt.close(disp.figure_)


def test_f0_distribution_display_one_box_per_speaker(voices):
    from skvoice.eda import F0DistributionDisplay

    table = f0_table(voices.data, voices.speaker, voices.sr)
    disp = F0DistributionDisplay(table, set(voices.allowed)).plot()
    names = [t.get_text() for t in disp.ax_.get_xticklabels()]
    assert sorted(names) == sorted(str(s) for s in np.unique(voices.speaker))
    plt.close(disp.figure_)


def _assert_same_power(db, ref_db):
    """Equal as power spectra, to float32 precision relative to the loudest bin."""
    assert db.shape == ref_db.shape
    p, ref = 10.0 ** (db / 10.0), 10.0 ** (ref_db / 10.0)
    np.testing.assert_allclose(p, ref, rtol=1e-3, atol=1e-5 * ref.max())


def test_class_spectrogram_display_matches_librosa():
    import librosa

    from skvoice.datasets import make_voices
    from skvoice.eda import ClassSpectrogramDisplay

    data = make_voices(n_speakers=3, allowed=[0], n_recordings=2, duration=1.0, random_state=0)
    disp = ClassSpectrogramDisplay.from_recordings(data.data, data.target, data.sr, n_examples=2)
    assert disp.axes_.shape == (4, 2)
    first_refused = int(np.flatnonzero(data.target == 0)[0])
    y = data.data[first_refused]
    mel = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=y, sr=data.sr, n_fft=1024, hop_length=256, n_mels=64, pad_mode="constant"
        ),
        top_db=80.0,
    )
    # float32 FFTs differ in the last bits between CPUs and thread counts, and a
    # relative error in power is what stays fixed: compare in power, not in dB.
    _assert_same_power(disp.spectrograms[0]["mel"][0], mel)
    lin = librosa.power_to_db(
        np.abs(librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="constant")) ** 2,
        top_db=80.0,
    )
    _assert_same_power(disp.spectrograms[0]["linear"][0], lin)
    titles = [ax.get_title() for ax in disp.axes_[:, 0]]
    assert titles[0].startswith("refused") and titles[-1].startswith("allowed")
    # A seeded draw picks recordings of the right class, reproducibly.
    a = ClassSpectrogramDisplay.from_recordings(
        data.data, data.target, n_examples=1, random_state=3
    )
    b = ClassSpectrogramDisplay.from_recordings(
        data.data, data.target, n_examples=1, random_state=3
    )
    np.testing.assert_array_equal(a.spectrograms[1]["mel"][0], b.spectrograms[1]["mel"][0])
    allowed_mels = disp.spectrograms[1]["mel"]
    assert any(np.array_equal(a.spectrograms[1]["mel"][0], m) for m in allowed_mels)
    plt.close("all")


def test_f0_table_has_no_pitch_floor_outliers_from_background_noise():
    # Regression: pYIN called some background-noise frames voiced at the floor of
    # its range (60-75 Hz), a row of false outliers under every speaker's F0 box,
    # on voices whose true F0 never goes that low.
    from skvoice.datasets import make_voices
    from skvoice.eda import f0_table

    v = make_voices(n_speakers=10, n_recordings=6, random_state=0)
    lowest_true = min(np.nanmin(f) for f in v.f0)
    assert lowest_true > 80
    kept = np.asarray(f0_table(v.data, v.speaker, v.sr)["f0"])
    assert kept.min() > 0.9 * lowest_true
    every = np.asarray(f0_table(v.data, v.speaker, v.sr, top_db=None)["f0"])
    assert (every < 75).sum() > 0  # the outliers the gate removes
    assert len(kept) > 0.99 * len(every)  # and almost nothing else


def test_tables_do_not_import_the_displays():
    # The Displays depend on the tables, and nothing depends back: the circle
    # _corpus <-> _display is broken by the overview module.
    import ast
    import inspect

    from skvoice.eda import _corpus

    tree = ast.parse(inspect.getsource(_corpus))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not any("_display" in m or "_overview" in m for m in imported)


def test_every_display_shares_the_plot_signature():
    # plot(*, ax=None, name=None, **kwargs) everywhere (the Display base).
    import inspect

    from skvoice import eda, inspection
    from skvoice._plotting import Display

    displays = [
        getattr(m, n) for m in (eda, inspection) for n in m.__all__ if n.endswith("Display")
    ]
    assert len(displays) == 12
    for cls in displays:
        assert issubclass(cls, Display), cls
        params = inspect.signature(cls.plot).parameters
        assert list(params) == ["self", "ax", "name", "kwargs"], cls
        assert all(params[k].kind is inspect.Parameter.KEYWORD_ONLY for k in ("ax", "name"))


def test_plot_name_and_kwargs_reach_the_drawing():
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_hex

    disp = SpeakerCountDisplay.from_labels(["a", "b", "b"], [1, 0, 0])
    again = disp.plot(name="Counts", color="tab:red")
    assert again.ax_.get_title() == "Counts"
    assert {to_hex(p.get_facecolor()) for p in again.ax_.patches} == {to_hex("tab:red")}
    plt.close("all")


def test_grid_display_takes_a_figure(voices):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    disp = F0TrackDisplay.from_recordings(voices.data[:2], [0, 1], voices.sr, ax=fig)
    assert disp.figure_ is fig and disp.axes_.shape == (2, 1)
    with pytest.raises(TypeError, match="Figure or SubFigure"):
        disp.plot(ax=fig.axes[0])
    plt.close("all")
