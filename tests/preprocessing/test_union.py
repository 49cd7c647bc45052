import numpy as np
import pytest
from sklearn.base import clone

from skvoice.preprocessing import ChannelUnion, F0Extractor, SpectrogramExtractor


def test_stacks_aligned_channels(voices):
    spec = SpectrogramExtractor()
    harm = F0Extractor(output="harmonics")
    union = ChannelUnion([("spec", spec), ("f0", harm)])
    out = union.fit_transform(voices.data[:3])
    for y, img in zip(voices.data[:3], out):
        assert img.shape == (2, 64, 1 + len(y) // 256)
        np.testing.assert_array_equal(img[0], spec.fit_transform([y])[0])
        np.testing.assert_array_equal(img[1], harm.fit_transform([y])[0])


def test_array_output_for_fixed_duration(voices):
    union = ChannelUnion(
        [
            ("a", SpectrogramExtractor(duration=1.0)),
            ("b", SpectrogramExtractor(duration=1.0, kind="log")),
        ],
        n_jobs=2,
    )
    out = union.fit_transform(voices.data)
    assert out.shape == (len(voices.data), 2, 64, 63)


def test_mismatch_names_transformer_and_recording(voices):
    union = ChannelUnion(
        [("spec", SpectrogramExtractor()), ("coarse", SpectrogramExtractor(hop_length=512))]
    )
    with pytest.raises(ValueError, match="Recording 0: transformer 'coarse'"):
        union.fit_transform(voices.data[:2])


def test_params_and_clone():
    union = ChannelUnion([("spec", SpectrogramExtractor())])
    union.set_params(spec__n_mels=32)
    assert union.get_params()["spec__n_mels"] == 32
    assert clone(union).transformer_list[0][1].n_mels == 32


def test_bad_list():
    with pytest.raises(ValueError):
        ChannelUnion([]).fit([np.ones(100)])
    with pytest.raises(TypeError, match="transform"):
        ChannelUnion([("x", object())]).fit([np.ones(100)])
