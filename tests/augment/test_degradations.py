"""Degradations: checked against independent measures (spectra, SNR, RT60), seeds, errors."""

import builtins

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import welch
from sklearn.base import BaseEstimator, ClassifierMixin

from skvoice.augment import (
    AddNoise,
    Crop,
    Reverberate,
    TelephoneChannel,
    make_condition,
    stress_test,
)
from skvoice.augment._channel import codec_round_trip

SR = 16000
T = np.arange(2 * SR) / SR


def tone(freq, amp=0.3):
    return (amp * np.sin(2 * np.pi * freq * T)).astype(np.float32)


def level_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


def test_telephone_keeps_the_voice_band_and_removes_the_rest():
    inside, low, high = tone(1000), tone(100), tone(5000)
    a, b, c = TelephoneChannel(codec=None).fit_transform([inside, low, high])
    middle = slice(SR // 4, -SR // 4)  # away from the filters' edges
    assert abs(level_db(a[middle]) - level_db(inside)) < 0.5
    assert level_db(b[middle]) - level_db(low) < -20  # 24 dB/octave, 1.6 octaves down
    assert level_db(c[middle]) - level_db(high) < -60  # above the 8 kHz channel's Nyquist
    assert len(a) == len(inside) and a.dtype == np.float32


@pytest.mark.parametrize("codec, min_snr, max_snr", [("ulaw", 32, 42), ("gsm", 10, 30)])
def test_codecs_are_lossy_by_what_they_are_known_for(codec, min_snr, max_snr):
    # G.711 mu-law quantises to 8 bits (about 35-38 dB SNR on speech-like levels);
    # GSM 6.10 is a vocoder: a sine comes back far noisier.
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.float32)
    z = codec_round_trip(x, 8000, codec)
    lag = int(np.argmax(np.correlate(z[:4000], x[:2000], mode="valid")))  # codec delay
    err = z[lag : lag + 6000] - x[:6000]
    snr = level_db(x[:6000]) - level_db(err)
    assert min_snr < snr < max_snr, snr


def test_codec_needs_its_rate():
    with pytest.raises(ValueError, match="gsm.*channel_sr"):
        TelephoneChannel(codec="gsm", channel_sr=16000).fit([tone(1000)])
    with pytest.raises(ValueError, match="Nyquist"):
        TelephoneChannel(high=5000.0).fit([tone(1000)])
    with pytest.raises(ValueError, match="not one of"):
        TelephoneChannel(codec=["ulaw", "amr"]).fit([tone(1000)])


def test_codec_sequence_draws_per_recording_from_the_seed():
    xs = [tone(f) for f in (500, 700, 900, 1100, 1300, 1500)]
    t = TelephoneChannel(codec=["ulaw", "gsm"], random_state=0)
    a, b = t.fit_transform(xs), t.fit_transform(xs)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    ulaw = TelephoneChannel(codec="ulaw").fit_transform(xs)
    same = [np.array_equal(p, q) for p, q in zip(a, ulaw)]
    assert any(same) and not all(same)  # some drew mu-law, some GSM


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0])
@pytest.mark.parametrize("noise", ["white", "pink", "brown", "recordings"])
def test_noise_is_added_at_the_asked_snr(snr, noise):
    x = tone(300)
    if noise == "recordings":
        rng = np.random.default_rng(1)
        noise = [rng.standard_normal(5000), rng.standard_normal(9000) * 3]
    (z,) = AddNoise(snr_db=snr, noise=noise, n_sources=2, random_state=0).fit_transform([x])
    assert abs((level_db(x) - level_db(z - x)) - snr) < 0.1


def test_pink_noise_has_equal_power_per_octave_and_white_doubles():
    silence_free = np.full(8 * SR, 1e-3, np.float32)

    def octave_powers(colour):
        (z,) = AddNoise(snr_db=-40.0, noise=colour, random_state=0).fit_transform([silence_free])
        f, p = welch(z, fs=SR, nperseg=4096)
        return np.array([p[(f >= lo) & (f < 2 * lo)].sum() for lo in (500, 1000, 2000, 4000)])

    # Power per octave: pink flat, white +3 dB an octave, brown -3 dB.
    pink, white, brown = (10 * np.log10(octave_powers(c)) for c in ("pink", "white", "brown"))
    assert np.ptp(pink) < 2.5
    np.testing.assert_allclose(np.diff(white), 3.0, atol=0.7)
    np.testing.assert_allclose(np.diff(brown), -3.0, atol=1.5)


def test_reverberation_time_measured_on_the_rooms():
    import pyroomacoustics as pra

    for rt60 in (0.3, 0.8):
        rooms = Reverberate(rt60=rt60, n_rooms=3, random_state=0).fit([tone(100)])
        # pyroomacoustics' own Schroeder-integration estimate, independent of inverse_sabine.
        measured = [pra.experimental.measure_rt60(h, fs=SR, decay_db=30) for h in rooms.rirs_]
        assert np.all(np.abs(np.array(measured) / rt60 - 1) < 0.25), measured


def test_reverberation_keeps_length_and_level_and_smears_a_click():
    click = np.zeros(SR, np.float32)
    click[1000] = 0.5
    r = Reverberate(rt60=0.8, n_rooms=2, random_state=0)
    (z,) = r.fit_transform([click])
    assert len(z) == len(click) and abs(level_db(z) - level_db(click)) < 0.01
    assert np.argmax(np.abs(z)) == 1000  # the direct path first: no time shift
    tail = np.sum(z[1000 + SR // 10 :] ** 2) / np.sum(z**2)
    assert tail > 0.05  # energy still arriving 100 ms after the click


def test_crop_centre_and_random():
    x = np.arange(3 * SR, dtype=np.float32) / (3 * SR)
    (c,) = Crop(duration=1.0).fit_transform([x])
    np.testing.assert_array_equal(c, x[SR : 2 * SR])
    rs = Crop(duration=(0.5, 1.5), position="random", random_state=0).fit_transform([x] * 1)
    assert 0.5 * SR <= len(rs[0]) <= 1.5 * SR
    starts = {
        float(r[0])
        for r in Crop(duration=1.0, position="random", random_state=0).fit_transform(
            [x + k for k in range(8)]
        )
    }
    assert len(starts) > 1
    short = np.ones(100, np.float32)
    np.testing.assert_array_equal(Crop(duration=1.0).fit_transform([short])[0], short)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**20), order=st.permutations(range(4)))
def test_same_seed_same_output_in_any_order(seed, order):
    rng = np.random.default_rng(seed)
    xs = [
        rng.uniform(-0.5, 0.5, int(rng.integers(800, 4000))).astype(np.float32) for _ in range(4)
    ]
    d = AddNoise(snr_db=(0.0, 20.0), random_state=seed)
    a = d.fit_transform(xs)
    b = d.fit_transform([xs[i] for i in order])
    for k, i in enumerate(order):
        np.testing.assert_array_equal(a[i], b[k])
    other = AddNoise(snr_db=(0.0, 20.0), random_state=seed + 1).fit_transform(xs)
    assert not np.array_equal(a[0], other[0])


def test_input_is_not_modified_and_globals_are_restored():  # noqa: NPY002
    import random

    x = tone(440)
    before = x.copy()
    np.random.seed(5)  # noqa: NPY002
    random.seed(5)
    expected = (np.random.random(), random.random())  # noqa: NPY002
    np.random.seed(5)  # noqa: NPY002
    random.seed(5)
    AddNoise(random_state=0).fit_transform([x])
    assert (np.random.random(), random.random()) == expected  # noqa: NPY002
    np.testing.assert_array_equal(x, before)


def test_missing_extra_names_it(monkeypatch):
    real_import = builtins.__import__

    def no_audiomentations(name, *args, **kwargs):
        if name.startswith("audiomentations"):
            raise ImportError("no module")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_audiomentations)
    import sys

    monkeypatch.setitem(sys.modules, "audiomentations", None)  # import fails
    with pytest.raises(ImportError, match=r"skvoice\[augment\]"):
        TelephoneChannel().fit_transform([tone(1000)])


def test_bad_parameters():
    with pytest.raises(ValueError, match="snr_db"):
        AddNoise(snr_db=(10, 0)).fit([tone(100)])
    with pytest.raises(ValueError, match="noise recording 0"):
        AddNoise(noise=[np.zeros(10)]).fit([tone(100)])
    with pytest.raises(ValueError, match="rt60"):
        Reverberate(rt60=5.0).fit([tone(100)])
    with pytest.raises(ValueError, match="duration"):
        Crop(duration=(2.0, 1.0)).fit([tone(100)])
    with pytest.raises(ValueError, match="Unknown condition"):
        make_condition("underwater")


class HighBandDetector(ClassifierMixin, BaseEstimator):
    """Allowed when the recording has energy above 4 kHz: a model the phone must break."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def _share(self, X):
        out = []
        for x in X:
            f, p = welch(x, fs=SR, nperseg=512)
            out.append(p[f > 4000].sum() / p.sum())
        return np.array(out)

    def predict_proba(self, X):
        s = np.clip(self._share(X) * 2, 0, 1)
        return np.c_[1 - s, s]

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] > 0.25).astype(int)


def test_stress_test_reports_what_each_condition_does_to_a_model():
    rng = np.random.default_rng(0)
    bright = [rng.standard_normal(SR).astype(np.float32) * 0.1 for _ in range(6)]
    dull = [tone(300 + 50 * k) for k in range(6)]
    X, y = bright + dull, np.r_[np.ones(6), np.zeros(6)]
    model = HighBandDetector().fit(X, y)
    rows = {r.condition: r for r in stress_test(model, X, y, conditions=["telephone", "short"])}
    assert list(rows) == ["wide-band", "telephone", "short"]
    assert rows["wide-band"].eer == 0 and rows["wide-band"].frr == 0
    assert rows["short"].eer == 0  # 1 s of the same sounds: nothing lost
    assert rows["telephone"].frr == 1.0  # the band above 4 kHz is gone: all refused
    with pytest.raises(ValueError, match="allowed and of other"):
        stress_test(model, X[:6], y[:6])
