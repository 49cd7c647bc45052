import librosa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skvoice.preprocessing import SpectrogramExtractor, filterbank
from tests._strategies import waveforms


def _reference(y, kind, power, to_db, **kw):
    if kind == "mel":
        S = librosa.feature.melspectrogram(y=y, sr=16000, power=power, **kw)
    else:
        kw.pop("n_mels", None)
        kw.pop("fmin", None)
        kw.pop("fmax", None)
        S = np.abs(librosa.stft(y, **kw)) ** power
    if to_db:
        S = (
            librosa.power_to_db(S, top_db=80.0)
            if power == 2
            else librosa.amplitude_to_db(S, top_db=80.0)
        )
    return S


@pytest.mark.parametrize("kind", ["mel", "linear"])
@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize("to_db", [False, True])
@pytest.mark.parametrize(
    "params",
    [
        {"n_fft": 1024, "hop_length": 256, "n_mels": 64},
        {
            "n_fft": 512,
            "hop_length": 160,
            "win_length": 400,
            "n_mels": 40,
            "fmin": 50.0,
            "fmax": 7600.0,
        },
    ],
)
def test_values_equal_librosa(voices, kind, power, to_db, params):
    ext = SpectrogramExtractor(kind=kind, power=power, to_db=to_db, normalize=None, **params)
    out = ext.fit_transform(voices.data[:3])
    for y, S in zip(voices.data[:3], out):
        ref = _reference(y, kind, power, to_db, **params)
        assert S.shape == ref.shape == (ref.shape[0], 1 + len(y) // params["hop_length"])
        np.testing.assert_allclose(S, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


def test_frequencies(voices):
    mel = SpectrogramExtractor(n_mels=40).fit(voices.data)
    np.testing.assert_allclose(mel.frequencies_, librosa.mel_frequencies(42, fmax=8000.0)[1:-1])
    lin = SpectrogramExtractor(kind="linear", n_fft=512).fit(voices.data)
    np.testing.assert_allclose(lin.frequencies_, librosa.fft_frequencies(sr=16000, n_fft=512))
    log = SpectrogramExtractor(kind="log", n_mels=48, fmin=60).fit(voices.data)
    ratios = log.frequencies_[1:] / log.frequencies_[:-1]
    np.testing.assert_allclose(ratios, ratios[0])  # geometric spacing
    assert log.n_bins_ == 48


def test_log_kind_reads_a_tone_in_the_right_band():
    sr = 16000
    t = np.arange(sr) / sr
    ext = SpectrogramExtractor(kind="log", n_mels=48, fmin=60, normalize=None, to_db=False)
    for f in (120.0, 500.0, 3000.0):
        S = ext.fit_transform([np.sin(2 * np.pi * f * t)])[0]
        peak = ext.frequencies_[S.mean(axis=1).argmax()]
        assert abs(np.log2(peak / f)) < 0.25  # within a quarter octave
    weights, _ = filterbank(kind="log", n_bins=48, fmin=60)
    assert np.all(weights.sum(axis=1) > 0)  # no empty band


def test_log_kind_definition():
    # librosa has no log-frequency filterbank to compare with: test the definition.
    # Centres: 48 of 50 geometrically spaced edges from fmin to Nyquist.
    weights, centres = filterbank(kind="log", n_bins=48, fmin=60, n_fft=1024)
    np.testing.assert_allclose(centres, np.geomspace(60, 8000, 50)[1:-1])
    np.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-6)  # unit area
    # A tone on the FFT bin nearest a band's centre peaks in that band.
    sr = 16000
    t = np.arange(sr) / sr
    ext = SpectrogramExtractor(kind="log", n_mels=48, fmin=60, normalize=None, to_db=False)
    for band in (20, 30, 40, 47):
        f = round(centres[band] / (sr / 1024)) * (sr / 1024)
        S = ext.fit_transform([np.sin(2 * np.pi * f * t)])[0]
        assert S.mean(axis=1).argmax() == band


def test_duration_crop_and_loop(voices):
    ext = SpectrogramExtractor(duration=1.0)
    out = ext.fit_transform([voices.data[0], voices.data[0][:4000]])
    assert out.shape == (2, 64, 1 + 16000 // 256)
    short = SpectrogramExtractor(duration=0.5, normalize=None).fit_transform(
        [np.resize(voices.data[0][:4000], 8000)]
    )
    looped = SpectrogramExtractor(duration=0.5, normalize=None).fit_transform(
        [voices.data[0][:4000]]
    )
    np.testing.assert_allclose(looped, short)


def test_normalize_modes(voices):
    rec = SpectrogramExtractor(normalize="recording").fit_transform(voices.data[:2])
    for S in rec:
        assert abs(S.mean()) < 1e-4 and abs(S.std() - 1) < 1e-3
    freq = SpectrogramExtractor(normalize="frequency").fit_transform(voices.data[:2])
    for S in freq:
        np.testing.assert_allclose(S.mean(axis=1), 0, atol=1e-4)


def test_float16(voices):
    out = SpectrogramExtractor(dtype="float16").fit_transform(voices.data[:2])
    assert out[0].dtype == np.float16


def test_two_d_input_gives_array(voices):
    X = np.stack([voices.data[0][:8000], voices.data[1][:8000]])
    out = SpectrogramExtractor().fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape == (2, 64, 32)


@pytest.mark.parametrize(
    "params,match",
    [
        ({"fmax": 9000.0}, "Nyquist"),
        ({"fmin": 5000.0, "fmax": 4000.0}, "fmin"),
        ({"win_length": 4096}, "win_length"),
        ({"kind": "cqt"}, "kind"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        SpectrogramExtractor(**params).fit([np.ones(100)])


def test_pickle_and_clone_keep_values(voices):
    import pickle

    from sklearn.base import clone

    ext = SpectrogramExtractor().fit(voices.data)
    a = ext.transform(voices.data[:1])[0]
    b = pickle.loads(pickle.dumps(ext)).transform(voices.data[:1])[0]
    c = clone(ext).fit(voices.data).transform(voices.data[:1])[0]
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_recordings_shorter_than_one_hop_are_refused_by_name(tmp_path):
    # Regression: a 1-sample or 10-sample recording gave a frame of padding and,
    # downstream, a confident probability.
    import soundfile as sf

    ext = SpectrogramExtractor(n_fft=256, hop_length=64).fit([np.ones(64)])
    with pytest.raises(
        ValueError, match=r"Recording 1: 10 samples, shorter than one analysis hop"
    ):
        ext.transform([np.ones(400), np.ones(10)])
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(20), 16000)
    with pytest.raises(ValueError, match="short.wav"):
        ext.transform([str(short)])
    assert ext.transform([np.ones(64)])[0].shape[1] == 2


@given(waveforms(min_len=64, max_len=4000), st.sampled_from(["mel", "linear", "log"]))
def test_property_shapes_and_finite(batch, kind):
    ext = SpectrogramExtractor(kind=kind, n_fft=256, hop_length=64, n_mels=16)
    out = ext.fit_transform(batch)
    for y, S in zip(batch, out):
        assert S.shape == (ext.n_bins_, 1 + len(y) // 64)
        assert np.all(np.isfinite(S))


@given(
    waveforms(min_len=512, max_len=4000),
    st.floats(1e-4, 1e3),
    st.sampled_from([None, 80.0]),
)
def test_property_scaling_leaves_normalised_unchanged(batch, gain, top_db):
    # Regression: the log's absolute floor (amin) used to clip quiet recordings
    # where loud ones were not, so a device 40 dB quieter changed the image.
    ext = SpectrogramExtractor(
        n_fft=256, hop_length=64, n_mels=16, top_db=top_db, normalize="recording"
    )
    quiet = [y * np.float32(gain) for y in batch]
    for a, b in zip(ext.fit_transform(batch), ext.transform(quiet)):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_output_container_follows_the_input(rng):
    X = rng.standard_normal((3, 4000)).astype(np.float32)
    ext = SpectrogramExtractor(n_mels=16).fit(X)
    as_array = ext.transform(X)
    assert isinstance(as_array, np.ndarray) and as_array.shape[0] == 3
    # Nested lists of one length are a 2-D array-like, as in scikit-learn.
    nested = ext.transform(X.tolist())
    assert isinstance(nested, np.ndarray)
    np.testing.assert_allclose(nested, as_array, rtol=1e-5, atol=1e-5)
    # A list of arrays, or ragged nested lists, gives a list of images.
    assert isinstance(ext.transform(list(X)), list)
    ragged = ext.transform([X[0].tolist(), X[1, :3000].tolist()])
    assert isinstance(ragged, list) and ragged[1].shape[1] < ragged[0].shape[1]
