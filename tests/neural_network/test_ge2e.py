"""The GE2E encoder: skvoice's network and front-end against the reference package."""

import sys
import types
from importlib import metadata

import numpy as np
import pytest

from skvoice.neural_network import SpeakerEmbedder, _ge2e, available_encoders, encoder_card
from skvoice.neural_network._ge2e import GE2EEncoder, partial_starts
from skvoice.preprocessing import LevelNormalizer
from skvoice.verification import make_enrollment_pipeline
from tests.conftest import needs_ge2e


def _reference_encoder():
    """resemblyzer's VoiceEncoder (tests only: skvoice never imports resemblyzer)."""
    try:
        import pkg_resources  # noqa: F401
    except ModuleNotFoundError:
        # webrtcvad 2.0.10 (a resemblyzer dependency) reads its own version with
        # pkg_resources, which setuptools >= 81 no longer has.
        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(version=metadata.version(name))
        sys.modules["pkg_resources"] = shim
    resemblyzer = pytest.importorskip("resemblyzer", reason="needs the ge2e extra")

    return resemblyzer.VoiceEncoder(device="cpu", verbose=False)


@pytest.mark.parametrize(
    "n_samples, starts, padded",
    [
        # ceil(16001 / 160) = 101 frames: one window, filled to 0.625 but the only one.
        (16000, [0], 25600),
        # 301 frames: windows at 0, 77, 154; the last is filled to 0.9125 >= 0.75.
        (48000, [0, 77, 154], 50240),
        # 276 frames: windows at 0, 77, 154; the last, at 154, is filled to
        # (44000 - 24640) / 25600 = 0.756 and kept.
        (44000, [0, 77, 154], 50240),
        # 251 frames: windows at 0, 77, 154; the last is filled to 0.6 and dropped.
        (40000, [0, 77], 37920),
    ],
)
def test_partial_windows_by_hand(n_samples, starts, padded):
    got, length = partial_starts(n_samples)
    np.testing.assert_array_equal(got, starts)
    assert length == padded


def test_level_normalizer_by_hand():
    t = np.arange(16000) / 16000
    y = (0.5 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)  # RMS 0.5 / sqrt(2)
    (z,) = LevelNormalizer(target_dbfs=-30.0).fit_transform([y])
    assert np.sqrt(np.mean(z.astype(np.float64) ** 2)) == pytest.approx(10 ** (-30 / 20), rel=1e-5)
    # Increase only: a recording louder than the target is left as it is.
    (same,) = LevelNormalizer(target_dbfs=-30.0, increase_only=True).fit_transform([y])
    np.testing.assert_array_equal(same, y)
    (silent,) = LevelNormalizer().fit_transform([np.zeros(400, dtype=np.float32)])
    np.testing.assert_array_equal(silent, 0.0)


def test_missing_extra_names_the_command(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(_ge2e.metadata, "distribution", missing)
    assert "ge2e" not in available_encoders()
    with pytest.raises(ImportError, match=r'pip install "skvoice\[ge2e\]"'):
        SpeakerEmbedder(pretrained="ge2e").fit([np.zeros(16000)])


@needs_ge2e
def test_equal_to_the_reference_implementation(real_speech):
    """Within 1e-4 of resemblyzer's embed_utterance on real speech, short recordings too."""
    reference = _reference_encoder()
    waves = [np.asarray(w, dtype=np.float32) for w in real_speech.data]
    waves += [w[:8000] for w in waves[:4]]  # 0.5 s: zero-padded to one window
    mine = SpeakerEmbedder(pretrained="ge2e").fit(waves).transform(waves)
    ref = np.stack([reference.embed_utterance(w) for w in waves])
    np.testing.assert_allclose(mine, ref, atol=1e-4)
    assert np.abs(mine - ref).max() < 1e-5  # measured: 2e-7


@needs_ge2e
def test_modified_weights_are_refused(monkeypatch, tmp_path):
    copy = tmp_path / "pretrained.pt"
    data = bytearray(_ge2e._weights_path().read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(_ge2e, "_weights_path", lambda: copy)
    with pytest.raises(ValueError, match="SHA-256"):
        GE2EEncoder()


@needs_ge2e
def test_card_and_pipeline(real_speech, tmp_path):
    from skvoice import load_model, save_model

    card = encoder_card("ge2e")
    assert card["sha256"] == _ge2e.SHA256 and card["input"] == "waveform"
    assert card["frontend"]["n_mels"] == 40 and "Apache-2.0" in card["licence"]

    d = real_speech
    allowed = np.isin(d.speaker, np.unique(d.speaker)[:3]).astype(int)
    pipe = make_enrollment_pipeline("ge2e", sr=d.sr)
    assert [name for name, _ in pipe.steps] == [
        "silencetrimmer",
        "levelnormalizer",
        "speakerembedder",
        "enrollmentverifier",
    ]
    pipe.fit(d.data, allowed, enrollmentverifier__groups=d.speaker)
    proba = pipe.predict_proba(d.data)[:, 1]
    # Real speech of 12 speakers: the enrolled ones score above the others.
    assert proba[allowed == 1].mean() > proba[allowed == 0].mean() + 0.5
    # The level is not part of the voice: 40 dB quieter gives the same embedding.
    front = pipe[:-1]
    quiet = [0.01 * np.asarray(w) for w in d.data[:3]]
    np.testing.assert_allclose(front.transform(quiet), front.transform(d.data[:3]), atol=1e-4)
    # Saved by name and SHA-256, read back to the same scores.
    path = tmp_path / "ge2e.skv"
    save_model(pipe, path)
    np.testing.assert_allclose(load_model(path).predict_proba(d.data)[:, 1], proba, atol=1e-6)


def test_default_cohort(tmp_path, monkeypatch):
    from skvoice.neural_network import _pretrained, default_cohort

    E, speakers = default_cohort("ge2e")
    assert E.shape == (500, 256) and len(np.unique(speakers)) == 125
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, atol=1e-12)
    assert not E.flags.writeable  # shared between calls: nobody may change it
    # The shipped encoder heard speechocean762's test/ speakers: no cohort from them.
    assert default_cohort("speechocean762") is None
    assert default_cohort("no-such-encoder") is None
    # A modified file is refused.
    for name in ("cohort_ge2e.npz", "cohort_ge2e.json"):
        (tmp_path / name).write_bytes((_pretrained._PACKAGE_DIR / name).read_bytes())
    data = bytearray((tmp_path / "cohort_ge2e.npz").read_bytes())
    data[100] ^= 1
    (tmp_path / "cohort_ge2e.npz").write_bytes(bytes(data))
    monkeypatch.setattr(_pretrained, "_PACKAGE_DIR", tmp_path)
    with pytest.raises(ValueError, match="SHA-256"):
        default_cohort("ge2e")


@needs_ge2e
def test_enrollment_pipeline_takes_the_shipped_cohort_on_request():
    pipe = make_enrollment_pipeline("ge2e", cohort="shipped")
    E, speakers = pipe[-1].cohort
    assert E.shape == (500, 256)
    # Not by default: out of its domain it pulled the threshold down (bench_cohort).
    assert make_enrollment_pipeline("ge2e")[-1].cohort is None
    with pytest.raises(ValueError, match="No cohort ships"):
        make_enrollment_pipeline("speechocean762", cohort="shipped")
