"""The pretrained speaker encoder: shipping, loading, embedding, fine-tuning, saving."""

import hashlib
import inspect
import json
import pickle
import shutil

import numpy as np
import pytest
import torch
from sklearn.base import clone

from skvoice import load_model, save_model
from skvoice._persist import ModelFormatError
from skvoice.metrics import equal_error_rate
from skvoice.neural_network import (
    CNNClassifier,
    SpeakerEmbedder,
    _pretrained,
    available_encoders,
    default_cohort,
    encoder_card,
)
from skvoice.neural_network._pretrained import (
    DEFAULT_ENCODER,
    KNOWN_ENCODERS,
    SHIPPED,
    best_encoder,
    load_encoder,
)
from skvoice.preprocessing import Resampler, SilenceTrimmer, SpectrogramExtractor
from skvoice.verification import make_enrollment_pipeline
from tests.conftest import needs_ge2e

NAME = "speechocean762"
DISTILLED = "speechocean762-distilled"


@pytest.fixture(scope="module")
def specs(voices):
    """The shipped front-end's spectrograms of the shared synthetic voices."""
    return SpectrogramExtractor().fit_transform(SilenceTrimmer().fit_transform(voices.data))


@pytest.fixture(scope="module")
def real_specs(real_speech):
    return SpectrogramExtractor().fit_transform(SilenceTrimmer().fit_transform(real_speech.data))


def _copy_encoder(tmp_path):
    """The shipped encoder's two files, copied to ``tmp_path`` (a user's own encoder)."""
    for ext in (".pt", ".json"):
        shutil.copy(_pretrained._PACKAGE_DIR / f"{NAME}{ext}", tmp_path / f"enc{ext}")
    return tmp_path / "enc.pt"


@pytest.mark.parametrize("name", [NAME, DISTILLED])
def test_shipped_weights_match_the_recorded_digest(name):
    assert list(SHIPPED) == [NAME, DISTILLED]
    # The installed ones: the shipped encoders, and GE2E with its extra.
    assert available_encoders() in ([NAME, DISTILLED, "ge2e"], [NAME, DISTILLED])
    weights = _pretrained._PACKAGE_DIR / f"{name}.pt"
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    card = json.loads(weights.with_suffix(".json").read_text())
    assert sha == SHIPPED[name] == card["sha256"]
    # Tensors only: loadable without running code from the file.
    state = torch.load(weights, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert not any(k.startswith("head.") for k in state)
    assert weights.stat().st_size < 5e6  # "a few MB"
    for key in ("licence", "attribution", "training"):
        assert card[key]
    assert "CC BY 4.0" in card["licence"]
    assert card["training"]["command"].startswith("python tools/pretrain_encoder.py")
    assert card["training"]["git_revision"]
    assert card["frontend"] == _pretrained.FRONTEND
    assert card["architecture"] == _pretrained.ARCHITECTURE


def test_the_distilled_encoder_names_its_teacher_and_is_the_default():
    card = encoder_card(DISTILLED)
    assert card["teacher"]["name"] == "ge2e"
    assert card["teacher"]["sha256"] == KNOWN_ENCODERS["ge2e"]
    assert card["teacher"]["licence"].startswith("Apache-2.0")
    assert "--distill ge2e" in card["training"]["command"]
    # Trained on the front-end it is used with, at a clean revision.
    assert card["frontend"] == _pretrained.FRONTEND
    assert len(card["training"]["git_revision"]) == 40
    assert DEFAULT_ENCODER == DISTILLED
    default = inspect.signature(make_enrollment_pipeline).parameters["pretrained"].default
    assert default == DEFAULT_ENCODER
    assert default_cohort(DISTILLED) is None  # it heard the cohort's speakers
    want = "ge2e" if "ge2e" in available_encoders() else DISTILLED
    assert best_encoder() == want


@needs_ge2e
def test_the_distilled_encoder_shares_more_of_the_teachers_geometry(real_speech):
    # The cosine of every pair of the 48 real utterances, by each encoder: the
    # distilled one follows GE2E's more closely than the encoder trained on the
    # speakers alone (0.72 against 0.68 when the weights were shipped).
    iu = np.triu_indices(len(real_speech.data), 1)

    def cosines(encoder):
        E = make_enrollment_pipeline(encoder)[:-1].fit_transform(real_speech.data)
        return (E @ E.T)[iu]

    teacher = cosines("ge2e")
    r = {e: np.corrcoef(cosines(e), teacher)[0, 1] for e in (NAME, DISTILLED)}
    assert r[DISTILLED] > r[NAME] + 0.02


def test_modified_weights_are_refused(tmp_path, monkeypatch):
    path = _copy_encoder(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256 in its card"):
        load_encoder(path)
    # The shipped name: checked against the digest recorded in the code, even
    # when the card beside the weights was rewritten to match them.
    card = json.loads(path.with_suffix(".json").read_text())
    card["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    path.with_suffix(".json").write_text(json.dumps(card))
    shutil.move(path, tmp_path / f"{NAME}.pt")
    shutil.move(path.with_suffix(".json"), tmp_path / f"{NAME}.json")
    monkeypatch.setattr(_pretrained, "_PACKAGE_DIR", tmp_path)
    with pytest.raises(ValueError, match="recorded in skvoice"):
        load_encoder(NAME)


def test_bad_names_and_missing_cards(tmp_path):
    with pytest.raises(ValueError, match="Unknown pretrained encoder 'voxceleb'.*speechocean762"):
        load_encoder("voxceleb")
    with pytest.raises(TypeError, match="name or a path"):
        load_encoder(3)
    path = _copy_encoder(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(ValueError, match="no card"):
        load_encoder(path)
    with pytest.raises(ValueError, match="pretrained excludes network"):
        SpeakerEmbedder(CNNClassifier(), pretrained=NAME).fit([np.zeros((64, 10), np.float32)])


def test_embedder_needs_no_training_data(specs, voices):
    emb = SpeakerEmbedder(pretrained=NAME)
    E = emb.fit(specs[:1]).transform(specs)  # fit only checks the input
    assert E.shape == (len(specs), _pretrained.ARCHITECTURE["embedding_dim"])
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-6)
    # The same embedding whatever it was "fitted" on, and after clone or pickle.
    other = SpeakerEmbedder(pretrained=NAME).fit(specs[5:], voices.target[5:])
    np.testing.assert_array_equal(other.transform(specs), E)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(emb)).transform(specs), E)
    np.testing.assert_array_equal(clone(emb).fit(specs).transform(specs), E)


def test_embedder_refuses_another_front_end(voices):
    narrow = SpectrogramExtractor(n_mels=40).fit_transform(voices.data[:2])
    with pytest.raises(ValueError, match="64"):
        SpeakerEmbedder(pretrained=NAME).fit(narrow)


def test_embeddings_do_not_depend_on_the_level(real_speech):
    # The front-end normalises each recording: a device 26 dB quieter gives the
    # same voice. (Much quieter than that, a 16-bit recording's own quantisation
    # and the trimmer's digital-silence gate at -90 dBFS come into play.)
    pipe = make_enrollment_pipeline()[:-1]
    loud = [w * 0.9 for w in real_speech.data[:6]]
    quiet = [w * 0.045 for w in real_speech.data[:6]]
    A, B = pipe.fit_transform(loud), pipe.transform(quiet)
    assert np.min(np.sum(A * B, axis=1)) > 0.999


def test_real_speech_same_speaker_is_closer(real_speech):
    # The 12 speakers of the test corpus are from speechocean762's test/ subset,
    # which the encoder was trained on: this checks that the shipped weights and
    # the front-end fit together (a wrong band layout or normalisation gives
    # chance), not how the encoder does on new voices (see bench_pretrained.py).
    E = make_enrollment_pipeline()[:-1].fit_transform(real_speech.data)
    spk = np.asarray(real_speech.speaker)
    S = E @ E.T
    iu = np.triu_indices(len(E), 1)
    same = (spk[:, None] == spk[None, :])[iu]
    assert equal_error_rate(same.astype(int), S[iu]) < 0.1


def test_telephone_rate_input_is_resampled(real_speech):
    from scipy.signal import resample_poly

    wide = make_enrollment_pipeline(sr=16000)[:-1]
    narrow = make_enrollment_pipeline(sr=8000)[:-1]
    assert type(narrow[0]) is Resampler and narrow[0].target_sr == 16000
    waves = real_speech.data[:8]
    A = wide.fit_transform(waves)
    B = narrow.fit_transform([resample_poly(w, 1, 2) for w in waves])
    spk = np.asarray(real_speech.speaker[:8])
    # Band-limited speech stays nearer its own wide-band recording than any
    # other speaker's.
    S = B @ A.T
    for i in range(len(waves)):
        others = spk != spk[i]
        assert S[i, i] > S[i, others].max()


def test_enrollment_pipeline_decides_and_round_trips(real_speech, tmp_path):
    spk = np.asarray(real_speech.speaker)
    allowed = np.unique(spk)[:3]
    y = np.isin(spk, allowed).astype(int)
    pipe = make_enrollment_pipeline(score_norm=None)
    pipe.fit(real_speech.data, y, enrollmentverifier__groups=spk)
    assert sorted(pipe[-1].enrolled_) == sorted(allowed)
    proba = pipe.predict_proba(real_speech.data)
    assert equal_error_rate(y, proba[:, 1]) < 0.15
    path = save_model(pipe, tmp_path / "m.skvoice")
    assert (tmp_path / "m.skvoice").stat().st_size < 200_000  # no weights inside
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(real_speech.data), proba)
    np.testing.assert_array_equal(loaded.predict(real_speech.data), pipe.predict(real_speech.data))
    assert list(loaded[-1].cohort_speakers_) == list(pipe[-1].cohort_speakers_)


@pytest.mark.parametrize("name", [NAME, DISTILLED])
def test_enrolment_of_another_encoder_version_is_refused(real_speech, tmp_path, monkeypatch, name):
    spk = np.asarray(real_speech.speaker)
    y = np.isin(spk, np.unique(spk)[:2]).astype(int)
    pipe = make_enrollment_pipeline(name).fit(real_speech.data, y, enrollmentverifier__groups=spk)
    path = save_model(pipe, tmp_path / "m.skvoice")
    # A later skvoice with new weights: both the shipped digest and the one a model
    # file is checked against change.
    monkeypatch.setitem(SHIPPED, name, "0" * 64)
    monkeypatch.setitem(KNOWN_ENCODERS, name, "0" * 64)
    with pytest.raises(ModelFormatError, match="Enrol the users again"):
        load_model(path)


def test_only_shipped_encoders_are_saved_by_name(real_speech, tmp_path):
    spk = np.asarray(real_speech.speaker)
    y = np.isin(spk, np.unique(spk)[:2]).astype(int)
    pipe = make_enrollment_pipeline(_copy_encoder(tmp_path))
    pipe.fit(real_speech.data, y, enrollmentverifier__groups=spk)
    with pytest.raises(TypeError, match="file on this machine"):
        save_model(pipe, tmp_path / "m.skvoice")


def _trunk(module):
    return {
        k: v.clone()
        for k, v in module.state_dict().items()
        if not k.startswith("head.") and "running" not in k and "num_batches" not in k
    }


def test_fine_tuning_starts_from_the_encoder(specs, voices):
    _, encoder = load_encoder(NAME)
    start = _trunk(encoder)
    kw = dict(pretrained=NAME, max_epochs=2, random_state=0)
    frozen = CNNClassifier(freeze_epochs=2, **kw).fit(specs, voices.target, groups=voices.speaker)
    # All epochs frozen: the trunk is the encoder's, only the head learnt.
    for k, v in _trunk(frozen.net_.module_).items():
        torch.testing.assert_close(v, start[k], rtol=0, atol=0)
    # ... and the fitted trunk takes gradients again (regression: Grad-CAM failed on a
    # network whose training ended inside its frozen epochs).
    assert all(p.requires_grad for p in frozen.net_.module_.parameters())
    from skvoice.inspection import grad_cam

    assert np.isfinite(grad_cam(frozen, specs[:1])[0]).all()
    thawed = CNNClassifier(freeze_epochs=1, **kw).fit(specs, voices.target, groups=voices.speaker)
    moved = [k for k, v in _trunk(thawed.net_.module_).items() if not torch.equal(v, start[k])]
    assert moved  # the second epoch trained the trunk
    # From a random start the trunk is far from the encoder's.
    scratch = CNNClassifier(max_epochs=1, random_state=0).fit(
        specs, voices.target, groups=voices.speaker
    )
    w = "blocks.block0.conv.weight"
    assert not torch.allclose(scratch.net_.module_.state_dict()[w], start[w], atol=1e-3)


def test_fine_tuning_checks_architecture_and_input(specs, voices):
    with pytest.raises(ValueError, match="Set those module__ parameters"):
        CNNClassifier(pretrained=NAME, module__n_filters=8, max_epochs=1).fit(specs, voices.target)
    narrow = [s[:40] for s in specs]
    with pytest.raises(ValueError, match="64 bins"):
        CNNClassifier(pretrained=NAME, max_epochs=1).fit(narrow, voices.target)
    with pytest.raises(ValueError, match="freeze_epochs needs pretrained"):
        CNNClassifier(freeze_epochs=2, max_epochs=1).fit(specs, voices.target)


def test_a_fine_tuned_network_saves_without_its_starting_path(specs, voices, tmp_path):
    path = _copy_encoder(tmp_path)
    net = CNNClassifier(pretrained=str(path), max_epochs=1, random_state=0)
    net.fit(specs, voices.target, groups=voices.speaker)
    loaded = load_model(save_model(net, tmp_path / "m.skvoice"))
    assert loaded[-1].pretrained is None  # a path of the writing machine never comes back
    np.testing.assert_allclose(loaded.predict_proba(specs), net.predict_proba(specs))


def test_embedder_takes_a_device(specs, monkeypatch):
    E = SpeakerEmbedder(pretrained=NAME).fit(specs).transform(specs)
    on_cpu = SpeakerEmbedder(pretrained=NAME, device="cpu").fit(specs)
    assert on_cpu.network_.device_ == "cpu"
    assert next(on_cpu.network_.module_.parameters()).device.type == "cpu"
    np.testing.assert_array_equal(on_cpu.transform(specs), E)
    with pytest.raises(ValueError, match="device must be 'cpu' or 'cuda"):
        SpeakerEmbedder(pretrained=NAME, device="tpu").fit(specs)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            SpeakerEmbedder(pretrained=NAME, device="cuda").fit(specs)
    # A network trained here is trained on the given device.
    seen = {}
    real_fit = CNNClassifier.fit

    def spy(self, X, y, **kw):
        seen["device"] = self.device
        return real_fit(self, X, y, **kw)

    monkeypatch.setattr(CNNClassifier, "fit", spy)
    net = CNNClassifier(
        module__n_filters=2, module__n_blocks=1, crop_frames=8, max_epochs=1, device="cuda"
    )
    SpeakerEmbedder(net, device="cpu").fit(specs[:8], groups=["a", "b"] * 4)
    assert seen["device"] == "cpu"
    pipe = make_enrollment_pipeline(device="cpu")
    assert pipe.named_steps["speakerembedder"].device == "cpu"
