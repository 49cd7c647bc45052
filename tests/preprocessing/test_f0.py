import librosa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.ndimage import maximum_filter1d, minimum_filter1d

from skvoice.datasets import make_voices
from skvoice.preprocessing import F0Extractor, SpectrogramExtractor
from skvoice.preprocessing._pyin import pyin, transition_log_band, yin


def _harmonic_tone(f, seconds=1.0, sr=16000, n=6):
    t = np.arange(int(sr * seconds)) / sr
    return sum(np.sin(2 * np.pi * f * k * t) / k for k in range(1, n + 1)).astype(np.float32)


@pytest.fixture(scope="module")
def speech():
    v = make_voices(n_speakers=6, n_recordings=2, duration=2.5, random_state=3)
    return v


def test_pyin_equals_librosa(speech):
    for y in speech.data[:4:2]:  # two speakers, two voices' pitch ranges
        ours, flag, prob = pyin(y, sr=16000, fmin=65, fmax=500)
        ref, rflag, rprob = librosa.pyin(
            y, sr=16000, fmin=65, fmax=500, frame_length=1024, hop_length=256
        )
        # The same voicing decisions, frame by frame, and the same F0 on every
        # voiced frame (to float rounding, far below a cent).
        np.testing.assert_array_equal(flag, rflag)
        cents = 1200 * np.log2(ours[flag] / ref[rflag])
        np.testing.assert_allclose(cents, 0, atol=1e-6)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
        np.testing.assert_allclose(prob, rprob, atol=1e-6)


def test_pyin_librosa_default_range_exact(speech):
    y = speech.data[5]
    fmin, fmax = librosa.note_to_hz("C2"), librosa.note_to_hz("C7")
    ours, flag, _ = pyin(y, sr=16000, fmin=fmin, fmax=fmax, frame_length=2048, hop_length=512)
    ref, rflag, _ = librosa.pyin(y, sr=16000, fmin=fmin, fmax=fmax)
    np.testing.assert_array_equal(flag, rflag)
    np.testing.assert_allclose(ours[flag], ref[rflag], rtol=1e-9)


def test_yin_equals_librosa(speech):
    y = speech.data[0]
    np.testing.assert_allclose(
        yin(y, sr=16000, fmin=65, fmax=500),
        librosa.yin(y, sr=16000, fmin=65, fmax=500, frame_length=1024, hop_length=256),
        rtol=1e-4,
    )


def test_transition_band_equals_librosa():
    dense = librosa.sequence.transition_local(40, 15, window="triangle", wrap=False)
    log_tri, log_norm = transition_log_band(40, 7)
    for i in range(40):
        for d in range(-7, 8):
            if 0 <= i + d < 40:
                assert np.isclose(np.log(dense[i, i + d]), log_tri[d + 7] - log_norm[i])
    assert np.count_nonzero(dense[0]) == 8  # nothing outside the band


def test_accuracy_against_true_f0():
    """Gross pitch errors <= 2 % of voiced frames, voicing errors <= 5 % of frames.

    Voicing is scored on frames whose analysis window (1024 samples, +-2 hops) lies
    wholly in voiced or wholly in unvoiced signal: at a voicing edge the truth of a
    64 ms window is ambiguous.
    """
    v = make_voices(n_speakers=8, n_recordings=2, duration=3.0, random_state=0)
    ext = F0Extractor().fit(v.data)
    gross, vde = [], []
    for est, truth in zip(ext.transform(v.data), v.f0):
        voiced, found = ~np.isnan(truth), ~np.isnan(est)
        both = voiced & found
        gross.append(np.abs(est[both] / truth[both] - 1) > 0.2)
        v_int = voiced.astype(int)
        clear = minimum_filter1d(v_int, 5) == maximum_filter1d(v_int, 5)
        vde.append((voiced != found)[clear])
    assert np.mean(np.concatenate(gross)) <= 0.02
    assert np.mean(np.concatenate(vde)) <= 0.05


@given(st.floats(80.0, 450.0))
def test_property_harmonic_tone_f0_within_one_percent(f):
    est = F0Extractor().fit_transform([_harmonic_tone(f, seconds=0.5)])[0]
    core = est[4:-4]
    assert np.mean(~np.isnan(core)) > 0.9
    assert abs(np.nanmedian(core) / f - 1) < 0.01


def test_contour_frames_and_range(speech):
    ext = F0Extractor(fmin=70, fmax=400).fit(speech.data)
    for y, f0 in zip(speech.data, ext.transform(speech.data)):
        assert f0.dtype == np.float32 and len(f0) == 1 + len(y) // 256
        ok = f0[~np.isnan(f0)]
        assert np.all((ok >= 70 - 1e-3) & (ok <= 400 + 1e-3))


def test_voiced_probabilities(speech):
    probs = F0Extractor().fit(speech.data).voiced_probabilities(speech.data[:2])
    for p, y in zip(probs, speech.data[:2]):
        assert len(p) == 1 + len(y) // 256 and np.all((p >= 0) & (p <= 1))


def test_yin_method_all_voiced():
    est = F0Extractor(method="yin").fit_transform([_harmonic_tone(200.0)])[0]
    assert not np.isnan(est).any()
    assert abs(np.median(est) - 200) < 2


def test_stats_output_and_pandas():
    pd = pytest.importorskip("pandas")
    tones = [_harmonic_tone(110.0), _harmonic_tone(220.0)]
    ext = F0Extractor(output="stats").set_output(transform="pandas")
    df = ext.fit_transform(tones)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(ext.get_feature_names_out())
    # 110 Hz is 12 semitones above 55 Hz; one octave up adds 12 more.
    np.testing.assert_allclose(df["f0_median_st"], [12.0, 24.0], atol=0.1)
    assert (df["voiced_fraction"] > 0.8).all()


def test_stats_of_silence_is_zero():
    out = F0Extractor(output="stats").fit_transform([np.zeros(8000)])
    np.testing.assert_array_equal(out, 0.0)


def test_harmonics_image_aligned_with_spectrogram():
    y = _harmonic_tone(200.0)
    for kind in ("mel", "linear", "log"):
        spec = SpectrogramExtractor(kind=kind, n_mels=64).fit([y])
        harm = F0Extractor(output="harmonics", kind=kind, n_mels=64).fit([y])
        S, H = spec.transform([y])[0], harm.transform([y])[0]
        assert S.shape == H.shape
        np.testing.assert_allclose(harm.frequencies_, spec.frequencies_)
    # Linear grid: energy at 200, 400, ... Hz bins only.
    H = F0Extractor(output="harmonics", kind="linear").fit_transform([y])[0]
    col = H[:, H.shape[1] // 2]
    bins = np.flatnonzero(col > 0.1)
    freqs = bins * 16000 / 1024
    assert np.all(np.min(np.abs(freqs[:, None] - 200 * np.arange(1, 11)), axis=1) < 16)


@pytest.mark.parametrize(
    "params,match",
    [
        ({"fmin": 600.0}, "fmin"),
        ({"fmax": 9000.0}, "Nyquist"),
        ({"fmin": 12.0}, "frame_length"),
        ({"output": "image"}, "output"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        F0Extractor(**params).fit([np.ones(2000)])


def test_feature_names_only_for_stats():
    ext = F0Extractor().fit([np.ones(2000)])
    with pytest.raises(AttributeError):
        ext.get_feature_names_out()
