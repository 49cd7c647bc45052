import librosa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skvoice.preprocessing import SilenceTrimmer, frame_rms_db
from tests._strategies import waveforms


def _speechlike(rng, n=16000):
    y = np.zeros(3 * n, dtype=np.float32)
    t = np.arange(n) / 16000
    y[n // 2 : n // 2 + n] = 0.5 * np.sin(2 * np.pi * 220 * t)
    y[2 * n : 2 * n + n // 2] = 0.3 * np.sin(2 * np.pi * 330 * t[: n // 2])
    return y + 1e-4 * rng.standard_normal(3 * n).astype(np.float32)


@pytest.mark.parametrize(
    "top_db,frame_length,hop_length", [(30, 2048, 512), (20, 1024, 256), (60, 512, 128)]
)
def test_edges_equal_librosa_trim(voices, top_db, frame_length, hop_length):
    trimmer = SilenceTrimmer(top_db=top_db, frame_length=frame_length, hop_length=hop_length)
    intervals = trimmer.fit(voices.data).get_intervals(voices.data)
    out = trimmer.transform(voices.data)
    for y, iv, yt in zip(voices.data, intervals, out):
        ref, (start, end) = librosa.effects.trim(
            y, top_db=top_db, frame_length=frame_length, hop_length=hop_length
        )
        assert iv.tolist() == [[start, end]]
        np.testing.assert_array_equal(yt, ref)


def test_rms_db_equals_librosa(rng):
    y = _speechlike(rng)
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=256)[0]
    ref = librosa.amplitude_to_db(rms, ref=np.max, top_db=None)
    np.testing.assert_allclose(frame_rms_db(y, frame_length=1024, hop_length=256), ref, atol=1e-3)


def test_all_mode_removes_inner_pause(rng):
    y = _speechlike(rng)
    edges = SilenceTrimmer(mode="edges").fit_transform([y])[0]
    inner = SilenceTrimmer(mode="all", min_silence=0.2).fit_transform([y])[0]
    assert len(inner) < len(edges) - 0.3 * 16000
    # A pause shorter than min_silence is kept.
    kept = SilenceTrimmer(mode="all", min_silence=1.0).fit_transform([y])[0]
    np.testing.assert_array_equal(kept, edges)


def test_crossfade_join_equals_hand_computation():
    sr = 16000
    t = np.arange(sr) / sr
    a = 0.5 * np.sin(2 * np.pi * 200 * t)
    b = 0.4 * np.sin(2 * np.pi * 300 * t)
    y = np.r_[a, np.zeros(sr), b].astype(np.float32)
    trimmer = SilenceTrimmer(mode="all", min_silence=0.2, crossfade=0.01).fit([y])
    (s1, e1), (s2, e2) = trimmer.get_intervals([y])[0]
    out = trimmer.transform([y])[0]
    n = 160
    w = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    first, second = y[s1:e1], y[s2:e2]
    expected = np.r_[first[:-n], first[-n:] * (1 - w) + second[:n] * w, second[n:]]
    np.testing.assert_allclose(out, expected, atol=1e-7)
    # The join sits in the quiet margins, so it adds no step to the signal.
    assert np.abs(np.diff(out)).max() <= np.abs(np.diff(y)).max() + 1e-6


def test_silent_recording_returned_whole_with_warning():
    y = [np.ones(4000, dtype=np.float32), np.zeros(4000, dtype=np.float32) + 1e-9]
    with pytest.warns(UserWarning, match="Recording 1"):
        out = SilenceTrimmer(ref=1.0, top_db=30).fit_transform(y)
    assert len(out[1]) == 4000


def test_absolute_reference(rng):
    y = _speechlike(rng) * 0.01  # quiet recording: -40 dBFS peaks
    rel = SilenceTrimmer().fit_transform([y])[0]
    with pytest.warns(UserWarning):
        absolute = SilenceTrimmer(ref=1.0, top_db=30).fit_transform([y])[0]
    assert len(rel) < len(y) and len(absolute) == len(y)


def test_durations(voices):
    d = SilenceTrimmer().fit(voices.data).durations(voices.data)
    assert d.shape == (len(voices.data), 2)
    np.testing.assert_allclose(d[:, 0], [len(y) / voices.sr for y in voices.data])
    assert np.all(d[:, 1] <= d[:, 0]) and np.all(d[:, 1] > 0)


def test_does_not_modify_input(voices):
    X = [y.copy() for y in voices.data[:2]]
    out = SilenceTrimmer().fit_transform(X)
    out[0][:] = 0
    np.testing.assert_array_equal(X[0], voices.data[0])


def test_bad_params():
    with pytest.raises(ValueError, match="mode"):
        SilenceTrimmer(mode="middle").fit([np.ones(10)])
    with pytest.raises(ValueError, match="top_db"):
        SilenceTrimmer(top_db=-1).fit([np.ones(10)])


@given(
    st.one_of(waveforms(min_len=64, max_len=5000), waveforms(64, 5000, bursts=True)),
    st.sampled_from(["edges", "all"]),
)
def test_property_trim_is_idempotent_and_never_empty(batch, mode):
    import warnings

    trimmer = SilenceTrimmer(mode=mode, frame_length=256, hop_length=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        once = trimmer.fit_transform(batch)
        if min(len(a) for a in once) < 64:
            # Less than one hop of sound left: too short to trim (or decide) on.
            with pytest.raises(ValueError, match="shorter than one analysis hop"):
                trimmer.transform(once)
            return
        twice = trimmer.transform(once)
    for y, a, b in zip(batch, once, twice):
        assert 0 < len(a) <= len(y) and np.all(np.isfinite(a))
        intervals = trimmer.get_intervals([y])[0]
        if mode == "edges" and len(intervals) == 1:
            # A contiguous slice of the input ...
            iv = intervals[0]
            np.testing.assert_array_equal(a, y[iv[0] : iv[1]])
            # ... that trimming again leaves unchanged up to one hop at each end.
            assert len(a) - len(b) <= 2 * 64
        elif mode == "edges":
            # Only inner digital silence was cut: every gap is below one 16-bit step.
            for (_, end), (start, _) in zip(intervals[:-1], intervals[1:]):
                assert np.all(np.abs(y[end:start]) < 2.0**-15)


def test_crossfade_join_formula():
    from skvoice.preprocessing._silence import _crossfade_join

    def fade(n):
        return 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)

    a, b = np.ones(50, np.float32), 3 * np.ones(40, np.float32)
    y = np.r_[a, b]
    out = _crossfade_join(y, [(0, 50), (50, 90)], n_fade=8)
    w = fade(8)
    expected = np.r_[np.ones(42), 1 * (1 - w) + 3 * w, 3 * np.ones(32)]
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.dtype == np.float32 and len(out) == 90 - 8
    # The fade rises from near 0 to near 1, symmetric about its middle.
    assert 0 < w[0] < 0.05 and 0.95 < w[-1] < 1 and np.allclose(w + w[::-1], 1)
    # A piece shorter than the fade limits it: 3 samples of fade.
    short = np.r_[np.ones(50), 3 * np.ones(3)].astype(np.float32)
    out = _crossfade_join(short, [(0, 50), (50, 53)], n_fade=8)
    np.testing.assert_allclose(out, np.r_[np.ones(47), (1 - fade(3)) + 3 * fade(3)], rtol=1e-6)
    # ... and so does an output shorter than the fade.
    out = _crossfade_join(short[::-1].copy(), [(0, 3), (3, 53)], n_fade=8)
    np.testing.assert_allclose(out, np.r_[3 * (1 - fade(3)) + fade(3), np.ones(47)], rtol=1e-6)
    # No fade: plain concatenation of all pieces.
    y3 = np.arange(30, dtype=np.float32)
    out = _crossfade_join(y3, [(0, 5), (10, 15), (20, 25)], n_fade=0)
    np.testing.assert_array_equal(out, np.r_[y3[0:5], y3[10:15], y3[20:25]])


def test_defaults_are_the_documented_ones(rng):
    y = _speechlike(rng)
    # frame_rms_db: frames of 2048, hop 512, 0 dB at the loudest frame.
    rms = librosa.feature.rms(y=y, frame_length=2048, hop_length=512)[0]
    ref = librosa.amplitude_to_db(rms, ref=np.max, top_db=None)
    np.testing.assert_allclose(frame_rms_db(y), ref, atol=1e-3)
    # Integer samples are read as numbers, not overflowed in int16 arithmetic.
    pcm = (y * 20000).astype(np.int16)
    np.testing.assert_allclose(frame_rms_db(pcm), frame_rms_db(pcm.astype(np.float32)), atol=1e-4)
    # SilenceTrimmer(): librosa's trim at 30 dB (librosa's own default is 60).
    out = SilenceTrimmer().fit_transform([y])[0]
    np.testing.assert_array_equal(
        out, librosa.effects.trim(y, top_db=30, frame_length=2048, hop_length=512)[0]
    )


def test_default_min_silence_is_a_quarter_second():
    sr = 16000
    t = np.arange(sr // 2) / sr
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)

    def with_gap(seconds):
        return np.r_[tone, np.zeros(int(seconds * sr), np.float32), tone]

    trim = SilenceTrimmer(mode="all", frame_length=512, hop_length=128)
    # A 0.15 s pause stays (one interval); a 0.4 s pause is cut (two).
    assert len(trim.fit([with_gap(0.15)]).get_intervals([with_gap(0.15)])[0]) == 1
    assert len(trim.fit([with_gap(0.4)]).get_intervals([with_gap(0.4)])[0]) == 2
    # Default crossfade 10 ms: the joined length is the two intervals minus 160.
    y = with_gap(0.4)
    (s1, e1), (s2, e2) = trim.get_intervals([y])[0]
    assert len(trim.transform([y])[0]) == (e1 - s1) + (e2 - s2) - 160


def test_digital_silence_is_silent_whatever_the_reference():
    # Regression: with ref="max" an all-zero recording is its own loudest frame,
    # so every frame counted as loud and nothing was trimmed or reported.
    import warnings

    tone = np.sin(np.arange(16000) * 0.1).astype(np.float32)
    padded = np.r_[np.zeros(8192, np.float32), tone, np.zeros(8192, np.float32)]
    for ref in ("max", 1.0):
        trimmer = SilenceTrimmer(ref=ref, top_db=120).fit([padded])
        with pytest.warns(UserWarning, match="Recording 1: digital silence"):
            out = trimmer.transform([padded, np.zeros(16000, np.float32)])
        # top_db=120 would keep the zeros as "loud" relative to the tone; the
        # absolute floor still trims them, to within one frame.
        assert len(out[0]) < len(padded) - 2 * 8192 + 2 * 2048
        np.testing.assert_array_equal(out[1], np.zeros(16000))
    # Quiet but real sound (-60 dBFS) is not digital silence.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = SilenceTrimmer().fit_transform([1e-3 * tone])
    assert len(out[0]) >= 15000


def test_inner_digital_silence_is_cut_in_both_modes(voices):
    # Regression: two utterances joined by 20 s of digital zeros were kept whole,
    # and the network, averaging over windows that were mostly zeros, refused an
    # allowed speaker (P ~ 0). Zeros never hold speech: they go like a pause.
    x1, x2 = voices.data[0], voices.data[1]
    joined = np.r_[x1, np.zeros(20 * voices.sr, np.float32), x2]
    for mode in ("edges", "all"):
        trimmer = SilenceTrimmer(sr=voices.sr, mode=mode)
        out = trimmer.fit_transform([joined])[0]
        assert len(out) <= len(x1) + len(x2)
        # Nothing is left of the zeros: the cut is at the samples, not the frames.
        zero = np.abs(out) < 2.0**-15
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, zero.astype(int), 0])))[::2]
        assert runs.max(initial=0) <= (8 if mode == "edges" else 2048)
    # Edges mode: the ends trimmed as for the utterances alone (to within one hop:
    # the frames fall elsewhere), and between them all of both (their own pauses
    # kept), joined by the 10 ms crossfade.
    trimmer = SilenceTrimmer(sr=voices.sr).fit([joined])
    (s1, _), (_, e2) = (iv[0] for iv in trimmer.get_intervals([x1, x2]))
    expected = (len(x1) - s1) + e2 - 160
    assert abs(len(trimmer.transform([joined])[0]) - expected) <= 512
    # A stretch of zeros shorter than min_silence is kept, as a short pause is.
    short = np.r_[x1, np.zeros(1000, np.float32), x2]
    kept = SilenceTrimmer(sr=voices.sr).fit([short]).get_intervals([short])[0]
    assert len(kept) == 1
    # Low-level noise between utterances is a pause: edges mode keeps it.
    noisy = np.r_[x1, 1e-3 * np.ones(20 * voices.sr, np.float32), x2]
    assert len(SilenceTrimmer(sr=voices.sr).fit([noisy]).get_intervals([noisy])[0]) == 1
