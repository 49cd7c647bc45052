import json
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

from skvoice._persist import FORMAT_VERSION, ModelFormatError, load_model, save_model
from skvoice.datasets import make_voices
from skvoice.neural_network import CNNClassifier
from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor


def rewrite(path, manifest, weights, key=None, integrity=True):
    """A model file with this content and valid digests (signed with ``key``)."""
    from skvoice._persist import _digests, _signature

    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    members = {"manifest.json": text.encode(), "weights.pt": weights}
    digests = _digests(members)
    record = {"sha256": digests, "hmac_sha256": None if key is None else _signature(key, digests)}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if integrity:
            zf.writestr("integrity.json", json.dumps(record))
    return path


def fit_tiny_pipeline():
    """A small fitted access-control pipeline (cosine scoring) and its voices."""
    v = make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)
    pipe = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(n_mels=32),
        CNNClassifier(
            module__n_filters=4, module__n_blocks=2, crop_frames=16, max_epochs=2, random_state=0
        ),
    )
    pipe.fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    return pipe, v


@pytest.fixture(scope="module")
def fitted():
    return fit_tiny_pipeline()


def test_round_trip_identical_predictions(fitted, tmp_path):
    pipe, v = fitted
    path = save_model(pipe, tmp_path / "m.skvoice")
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(v.data), pipe.predict_proba(v.data))
    assert loaded[-1].objective_ == "speakers"
    assert not list(tmp_path.glob("*.part"))


def test_tampered_truncated_and_other_versions(fitted, tmp_path):
    pipe, _ = fitted
    path = tmp_path / "m.skvoice"
    save_model(pipe, path)
    data = path.read_bytes()
    (tmp_path / "trunc.skvoice").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError):
        load_model(tmp_path / "trunc.skvoice")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        weights = zf.read("weights.pt")

    def write(name, man, w=weights):
        # As someone who knows the format would: with matching digests.
        return rewrite(tmp_path / name, man, w)

    with pytest.raises(ModelFormatError, match="format 99"):
        load_model(write("v99.skvoice", {**manifest, "format_version": 99}))
    evil = json.loads(json.dumps(manifest))
    evil["steps"][0]["class"] = "os.system"
    with pytest.raises(ModelFormatError, match="Unknown step class"):
        load_model(write("evil.skvoice", evil))
    with pytest.raises(ModelFormatError):
        load_model(write("badw.skvoice", manifest, w=b"garbage"))
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "none.skvoice")
    assert FORMAT_VERSION == 4


def test_interrupted_save_leaves_no_file(fitted, tmp_path, monkeypatch):
    import zipfile as zf

    pipe, _ = fitted
    target = tmp_path / "m.skvoice"

    def interrupted(self, name, data, *args, **kwargs):
        raise KeyboardInterrupt  # as Ctrl-C mid-write

    monkeypatch.setattr(zf.ZipFile, "writestr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model(pipe, target)
    assert list(tmp_path.iterdir()) == []  # neither the model nor a temporary


def test_public_names():
    import skvoice

    assert skvoice.save_model is save_model and skvoice.load_model is load_model
    assert skvoice.ModelFormatError is ModelFormatError


def test_round_trip_with_cosine_backend(tmp_path):
    v = make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=1)
    pipe = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(n_mels=32),
        CNNClassifier(
            module__n_filters=4,
            module__n_blocks=2,
            crop_frames=16,
            max_epochs=2,
            backend="cosine",
            random_state=0,
        ),
    )
    pipe.fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    loaded = load_model(save_model(pipe, tmp_path / "cos.skvoice"))
    assert sorted(loaded[-1].verifier_.enrolled_) == sorted(pipe[-1].verifier_.enrolled_)
    np.testing.assert_allclose(
        loaded.decision_function(v.data), pipe.decision_function(v.data), rtol=1e-12
    )


def test_round_trip_after_speaker_early_stopping(tmp_path):
    # The held-out speakers are not network outputs: the saved model keeps the
    # training speakers only, and predicts as the fitted one.
    v = make_voices(n_speakers=8, n_recordings=3, duration=1.0, random_state=0)
    pipe = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(n_mels=32),
        CNNClassifier(
            module__n_filters=4,
            module__n_blocks=2,
            crop_frames=16,
            max_epochs=3,
            early_stopping=True,
            random_state=0,
        ),
    )
    pipe.fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    assert len(pipe[-1].speakers_) == 6
    loaded = load_model(save_model(pipe, tmp_path / "m.skvoice"))
    np.testing.assert_array_equal(loaded[-1].speakers_, pipe[-1].speakers_)
    np.testing.assert_array_equal(loaded.predict_proba(v.data), pipe.predict_proba(v.data))


def test_channel_union_pipeline_round_trip(tmp_path):
    # A ChannelUnion (spectrogram + F0 harmonics as two channels) is saved with
    # its transformers' classes and parameters, each restoring its own state.
    from skvoice.preprocessing import ChannelUnion, F0Extractor

    v = make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)
    union = ChannelUnion(
        [("spec", SpectrogramExtractor()), ("f0", F0Extractor(output="harmonics"))]
    )
    pipe = make_pipeline(
        SilenceTrimmer(),
        union,
        CNNClassifier(
            module__n_filters=4, module__n_blocks=2, crop_frames=16, max_epochs=1, random_state=0
        ),
    )
    pipe.fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    loaded = load_model(save_model(pipe, tmp_path / "u.skvoice"))
    assert [name for name, _ in loaded[1].transformers_] == ["spec", "f0"]
    assert loaded[1].transformers_[1][1].get_params() == union.transformer_list[1][1].get_params()
    np.testing.assert_array_equal(loaded.predict_proba(v.data), pipe.predict_proba(v.data))


@pytest.fixture(scope="module")
def tiny_voices():
    return make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_property_whatever_fit_accepts_loads_back(tiny_voices, tmp_path, data):
    """A model built by the documented constructors round-trips, predicting the same.

    Regression: a network built with the (since removed) flat architecture names
    fitted and saved, and load_model refused the file.
    """
    import warnings

    from skvoice.preprocessing import ChannelUnion, F0Extractor, Resampler

    v = tiny_voices
    net = CNNClassifier(
        module__n_filters=data.draw(st.sampled_from([2, 4])),
        module__n_blocks=data.draw(st.integers(1, 2)),
        module__embedding_dim=data.draw(st.sampled_from([4, 8])),
        module__block_dropout=data.draw(st.sampled_from([0.0, 0.1])),
        module__dropout=data.draw(st.sampled_from([0.0, 0.3])),
        objective=data.draw(st.sampled_from(["auto", "binary"])),
        crop_frames=data.draw(st.sampled_from([8, 16])),
        max_epochs=1,
        random_state=0,
    )
    y = v.target
    if data.draw(st.booleans(), label="string labels"):
        y = np.where(v.target == 1, "allowed", "refused")
        net.set_params(pos_label="allowed")
    front = data.draw(st.sampled_from(["spectrogram", "union", "resampled"]))
    steps = [SilenceTrimmer(mode=data.draw(st.sampled_from(["edges", "all"])))]
    if front == "union":
        spec = SpectrogramExtractor()  # the harmonics image has its n_mels (64)
        steps.append(ChannelUnion([("spec", spec), ("f0", F0Extractor(output="harmonics"))]))
    elif front == "resampled":
        steps = [Resampler(sr=16000, target_sr=8000), SilenceTrimmer(sr=8000)]
        steps.append(SpectrogramExtractor(sr=8000, n_mels=24))
    else:
        steps.append(SpectrogramExtractor(n_mels=data.draw(st.sampled_from([16, 32]))))
    pipe = make_pipeline(*steps, net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if data.draw(st.booleans(), label="speakers"):
            pipe.fit(v.data, y, cnnclassifier__groups=v.speaker)
        else:
            pipe.fit(v.data, y)
    loaded = load_model(save_model(pipe, tmp_path / "m.skvoice"))
    np.testing.assert_array_equal(loaded.predict_proba(v.data), pipe.predict_proba(v.data))
    np.testing.assert_array_equal(loaded.predict(v.data), pipe.predict(v.data))
    assert loaded[-1].pos_label_ == pipe[-1].pos_label_
