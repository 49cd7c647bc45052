import librosa
import numpy as np
import pytest

from skvoice.datasets import make_voices


def test_shapes_and_labels(voices):
    assert len(voices.data) == 12 == len(voices.target) == len(voices.speaker)
    assert voices.sr == 16000
    assert set(voices.target) == {0, 1}
    for y, f0 in zip(voices.data, voices.f0):
        assert y.dtype == np.float32 and np.abs(y).max() <= 1.0
        assert len(f0) == 1 + len(y) // voices.f0_hop_length
    # Allowed is a property of the speaker, not of the recording.
    for spk in np.unique(voices.speaker):
        assert len(set(voices.target[voices.speaker == spk])) == 1
    assert sorted(voices.allowed) == sorted(set(voices.speaker[voices.target == 1]))


def test_same_seed_identical_data():
    a = make_voices(n_speakers=3, n_recordings=2, duration=1.0, random_state=7)
    b = make_voices(n_speakers=3, n_recordings=2, duration=1.0, random_state=7)
    c = make_voices(n_speakers=3, n_recordings=2, duration=1.0, random_state=8)
    for x, y in zip(a.data, b.data):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.data[0][:1000], c.data[0][:1000])


def test_true_f0_matches_independent_tracker(voices):
    """librosa's pYIN on the audio finds the returned F0 where both say voiced."""
    gross, voiced_found = [], []
    # Every other recording: all four speakers, half of librosa's (slow) pYIN calls.
    for y, f0 in zip(voices.data[::2], voices.f0[::2]):
        est, flag, _ = librosa.pyin(
            y, fmin=60, fmax=500, sr=voices.sr, frame_length=1024, hop_length=voices.f0_hop_length
        )
        both = flag & ~np.isnan(f0)
        gross.append(np.abs(est[both] / f0[both] - 1) > 0.2)
        voiced_found.append(both.sum() / max((~np.isnan(f0)).sum(), 1))
    assert np.mean(np.concatenate(gross)) < 0.02
    assert np.mean(voiced_found) > 0.8


def test_speakers_differ_measurably():
    """Speaker identity is recoverable from MFCC statistics far above chance."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    v = make_voices(n_speakers=5, n_recordings=8, duration=1.5, random_state=1)
    feats = []
    for y in v.data:
        m = librosa.feature.mfcc(y=y, sr=v.sr, n_mfcc=20)
        rms = librosa.feature.rms(y=y)[0]
        m = m[1:, rms > 0.1 * rms.max()]  # loud frames, level (c0) left out
        feats.append(np.r_[m.mean(axis=1), m.std(axis=1)])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    acc = cross_val_score(clf, np.array(feats), v.speaker, cv=StratifiedKFold(4)).mean()
    assert acc > 0.6  # chance is 0.2
    med = {
        s: np.nanmedian(np.concatenate([v.f0[i] for i in np.flatnonzero(v.speaker == s)]))
        for s in np.unique(v.speaker)
    }
    assert np.ptp(list(med.values())) > 30  # Hz between the lowest and highest voice


def test_pitch_alone_does_not_separate_all():
    v = make_voices(n_speakers=10, n_recordings=4, duration=1.5, random_state=0)
    ranges = []
    for s in np.unique(v.speaker):
        f = np.concatenate([v.f0[i] for i in np.flatnonzero(v.speaker == s)])
        ranges.append(np.nanpercentile(f, [10, 90]))
    ranges = np.sort(np.array(ranges), axis=0)
    overlaps = sum(
        (a[1] > b[0])
        for a, b in zip(
            sorted(ranges, key=lambda r: r[0])[:-1], sorted(ranges, key=lambda r: r[0])[1:]
        )
    )
    assert overlaps >= 3


def test_silences_at_edges(voices):
    for f0 in voices.f0:
        assert np.isnan(f0[:3]).all() and np.isnan(f0[-3:]).all()


def test_allowed_by_name_and_index():
    v = make_voices(n_speakers=3, n_recordings=1, duration=1.0, allowed=["s01"], random_state=0)
    assert v.target.tolist() == [0, 1, 0]
    v = make_voices(n_speakers=3, n_recordings=1, duration=1.0, allowed=[0, 2], random_state=0)
    assert v.target.tolist() == [1, 0, 1]


def test_snr_none_and_sr():
    v = make_voices(
        n_speakers=2, n_recordings=1, duration=1.0, sr=8000, snr_db=None, random_state=0
    )
    assert v.sr == 8000
    assert np.all(v.data[0][:50] == 0)  # no noise in the leading silence


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_speakers": 1},
        {"n_recordings": 0},
        {"duration": 0.1},
        {"sr": 100},
        {"allowed": ["zz"]},
        {"allowed": [9]},
    ],
)
def test_bad_parameters(kwargs):
    with pytest.raises(ValueError):
        make_voices(**{"n_speakers": 3, **kwargs})
