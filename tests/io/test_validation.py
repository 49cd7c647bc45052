import numpy as np
import pytest
import soundfile as sf
from hypothesis import given

from skvoice.io import check_waveforms
from tests._strategies import waveforms


def test_list_of_ragged_and_int_pcm():
    a = np.array([0, 16384, -32768], dtype=np.int16)
    out = check_waveforms([a, [0.25, 0.5]])
    np.testing.assert_allclose(out[0], [0.0, 0.5, -1.0])
    assert all(x.dtype == np.float32 for x in out)


def test_2d_array_rows():
    X = np.arange(6, dtype=np.float64).reshape(2, 3) / 10
    out = check_waveforms(X)
    assert len(out) == 2 and out[1].tolist() == pytest.approx([0.3, 0.4, 0.5])


def test_object_array_and_tuple():
    obj = np.empty(2, dtype=object)
    obj[0], obj[1] = np.zeros(3), np.ones(5)
    assert [len(x) for x in check_waveforms(obj)] == [3, 5]
    assert len(check_waveforms((np.zeros(2),))) == 1


def test_never_modifies_input():
    a = np.ones(5, dtype=np.float32)
    out = check_waveforms([a])
    out[0][:] = 7
    assert np.all(a == 1)


@pytest.mark.parametrize(
    "bad,match",
    [
        ([np.zeros(3), np.array([])], "Recording 1: the waveform is empty"),
        ([np.array([0.0, np.nan])], "Recording 0: .*NaN"),
        ([np.zeros(2), np.array([np.inf, 0])], "Recording 1: .*infinite"),
        ([np.zeros((2, 2))], "Recording 0: expected a 1-D"),
        ([np.array(["a", "b"])], "Recording 0: expected numeric"),
        ([np.zeros(3), 5.0], "Recording 1"),
        ([], "at least one recording"),
        (np.zeros(5), "single 1-D array"),
        (np.zeros((2, 2, 2)), "shape"),
    ],
)
def test_bad_input_names_recording(bad, match):
    with pytest.raises(ValueError, match=match):
        check_waveforms(bad)


def test_wrong_type():
    with pytest.raises(TypeError):
        check_waveforms(42)


def test_paths_when_allowed(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(800), 8000)
    with pytest.raises(TypeError, match="path"):
        check_waveforms([str(path)])
    out = check_waveforms([str(path)], allow_paths=True, sr=16000)
    assert len(out[0]) == 1600


@given(waveforms())
def test_property_values_preserved(batch):
    out = check_waveforms(batch)
    assert len(out) == len(batch)
    for a, b in zip(batch, out):
        np.testing.assert_array_equal(a, b)
        assert b is not a
