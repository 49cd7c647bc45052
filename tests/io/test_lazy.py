"""Streaming from files: LazyRecordings and Pipelines over paths."""

import pickle

import joblib
import numpy as np
import pytest
import soundfile as sf
from sklearn.base import clone
from sklearn.pipeline import Pipeline, make_pipeline

from skvoice.datasets import make_voices
from skvoice.io import AudioReadError, LazyRecordings
from skvoice.preprocessing import F0Extractor, SilenceTrimmer, SpectrogramExtractor


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    v = make_voices(n_speakers=3, n_recordings=2, duration=1.0, random_state=0)
    folder = tmp_path_factory.mktemp("audio")
    paths = []
    for i, x in enumerate(v.data):
        p = folder / f"{i}.wav"
        sf.write(p, x, v.sr, subtype="FLOAT")  # exact samples: results must match arrays
        paths.append(str(p))
    return v.data, paths


def test_indexing_slicing_and_pickling(corpus):
    data, paths = corpus
    rec = LazyRecordings(paths)
    assert len(rec) == len(paths)
    np.testing.assert_array_equal(rec[2], data[2])
    np.testing.assert_array_equal(rec[-1], data[-1])
    assert isinstance(rec[1:3], LazyRecordings) and len(rec[1:3]) == 2
    sub = rec[np.array([True, False, True, False, False, False])]
    np.testing.assert_array_equal(sub[1], data[2])
    np.testing.assert_array_equal(rec[[4, 0]][0], data[4])
    again = pickle.loads(pickle.dumps(rec))
    np.testing.assert_array_equal(again[0], data[0])
    assert "6 files" in repr(rec)


@pytest.mark.parametrize("mode", ["edges", "all"])
def test_pipeline_over_paths_equals_pipeline_over_arrays(corpus, mode):
    data, paths = corpus
    pipe = make_pipeline(SilenceTrimmer(mode=mode), SpectrogramExtractor())
    from_arrays = pipe.fit_transform(data)
    from_paths = pipe.fit_transform(paths)
    assert isinstance(pipe[0].transform(paths), LazyRecordings)
    assert isinstance(from_paths, list) and len(from_paths) == len(data)
    for a, b in zip(from_arrays, from_paths):
        np.testing.assert_array_equal(a, b)
    f0 = F0Extractor().fit(paths)
    trimmed = pipe[0].transform(paths)
    for a, b in zip(
        f0.transform(SilenceTrimmer(mode=mode).fit_transform(data)), f0.transform(trimmed)
    ):
        np.testing.assert_array_equal(a, b)


def test_each_file_is_decoded_once_in_fit_transform(corpus, monkeypatch):
    from skvoice.io import _audio, _lazy, _validation

    _, paths = corpus
    calls = []
    real = _audio.load_audio

    def counting(file, *args, **kwargs):
        calls.append(getattr(file, "name", file))  # a path, or a file opened from one
        return real(file, *args, **kwargs)

    for module in (_audio, _lazy, _validation):  # every module that decodes
        monkeypatch.setattr(module, "load_audio", counting)
    make_pipeline(SilenceTrimmer(), SpectrogramExtractor()).fit_transform(paths)
    assert sorted(calls) == sorted(paths)  # fit reads headers only


def test_each_header_is_read_once_in_a_pipeline_fit_transform(corpus, monkeypatch):
    _, paths = corpus
    calls = []
    real = sf.info

    def counting(file, *args, **kwargs):
        calls.append(getattr(file, "name", file))  # a path, or a file opened from one
        return real(file, *args, **kwargs)

    monkeypatch.setattr(sf, "info", counting)
    make_pipeline(SilenceTrimmer(), SpectrogramExtractor()).fit_transform(paths)
    assert sorted(calls) == sorted(paths)


def test_bad_files_fail_in_fit_naming_the_recording(corpus, tmp_path):
    _, paths = corpus
    with pytest.raises(FileNotFoundError, match="Recording 1"):
        SilenceTrimmer().fit([paths[0], str(tmp_path / "missing.wav")])
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    with pytest.raises(AudioReadError, match="Recording 0"):
        SpectrogramExtractor().fit([str(bad), paths[0]])


def test_trimmer_refuses_a_stream_read_at_another_rate(corpus):
    _, paths = corpus
    with pytest.raises(ValueError, match="8000 Hz"):
        SilenceTrimmer(sr=16000).fit(paths).transform(LazyRecordings(paths, sr=8000))


def test_transformers_hash_deterministically_for_pipeline_caching(corpus):
    _, paths = corpus
    import pickle

    # Memory keys a step by its hash: equal settings must give equal keys, whether
    # built apart, cloned or unpickled, and a changed setting a new key.
    for cls, changed in (
        (SilenceTrimmer, {"top_db": 40}),
        (SpectrogramExtractor, {"n_mels": 40}),
        (F0Extractor, {"fmax": 400.0}),
    ):
        key = joblib.hash(cls())
        assert joblib.hash(cls()) == key
        assert joblib.hash(clone(cls())) == key
        assert joblib.hash(pickle.loads(pickle.dumps(cls()))) == key
        assert joblib.hash(cls(**changed)) != key
    a = SilenceTrimmer().fit(paths).transform(paths)
    b = SilenceTrimmer().fit(paths).transform(paths)
    assert joblib.hash(a) == joblib.hash(b)


@pytest.mark.parametrize("as_paths", [False, True])
def test_pipeline_memory_computes_features_once(corpus, tmp_path, monkeypatch, as_paths):
    data, paths = corpus
    X = paths if as_paths else data
    calls = []
    real = SpectrogramExtractor.spectrogram_one

    def counting(self, y):
        calls.append(1)
        return real(self, y)

    monkeypatch.setattr(SpectrogramExtractor, "spectrogram_one", counting)

    def pipe():
        return Pipeline(
            [("trim", SilenceTrimmer()), ("spec", SpectrogramExtractor()), ("id", None)],
            memory=str(tmp_path / "cache"),
        )

    first = pipe().fit_transform(X)
    n_first = len(calls)
    second = pipe().fit_transform(X)
    assert n_first == len(data) and len(calls) == n_first  # served from the cache
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_every_step_checks_the_rate_of_lazy_recordings(tmp_path):
    # Regression: LazyRecordings read at 8 kHz went silently into a 16 kHz
    # extractor (only the trimmer checked).
    import soundfile as sf

    from skvoice.io import LazyRecordings
    from skvoice.preprocessing import F0Extractor, MFCCStatistics, SpectrogramExtractor

    path = tmp_path / "a.wav"
    sf.write(path, np.random.default_rng(0).standard_normal(8000) * 0.1, 8000)
    lazy = LazyRecordings([str(path)], sr=8000)
    for step in (SpectrogramExtractor(), MFCCStatistics(), F0Extractor()):
        with pytest.raises(ValueError, match="read at 8000 Hz but this step works at sr=16000"):
            step.fit(lazy)
        with pytest.raises(ValueError, match="read at 8000 Hz"):
            step.set_params(sr=8000).fit([np.zeros(4000)]).set_params(sr=16000).transform(lazy)
    assert SpectrogramExtractor(sr=8000).fit_transform(lazy)[0].shape[0] == 64
