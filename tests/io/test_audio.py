import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from skvoice.io import AudioReadError, load_audio


def _tone(sr, seconds=1.0, freq=440.0):
    t = np.arange(int(sr * seconds)) / sr
    return 0.5 * np.sin(2 * np.pi * freq * t)


@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("FLAC", "PCM_16")])
def test_roundtrip_same_rate(tmp_path, fmt, subtype):
    y = _tone(16000)
    path = tmp_path / f"a.{fmt.lower()}"
    sf.write(path, y, 16000, format=fmt, subtype=subtype)
    out = load_audio(path)
    assert out.dtype == np.float32 and out.ndim == 1
    tol = 1e-4 if subtype == "PCM_16" else 1e-7
    np.testing.assert_allclose(out, y, atol=tol)


def test_stereo_downmix_and_keep(tmp_path):
    left, right = _tone(16000, freq=300), _tone(16000, freq=500)
    path = tmp_path / "st.wav"
    sf.write(path, np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), (left + right) / 2, atol=1e-6)
    both = load_audio(path, mono=False)
    assert both.shape == (2, 16000)
    np.testing.assert_allclose(both[1], right, atol=1e-6)


@pytest.mark.parametrize("orig_sr", [8000, 44100])
def test_resampling_matches_independent_polyphase(tmp_path, orig_sr):
    y = _tone(orig_sr, seconds=1.0, freq=440.0)
    path = tmp_path / "r.wav"
    sf.write(path, y, orig_sr, subtype="FLOAT")
    out = load_audio(path, sr=16000)
    g = np.gcd(orig_sr, 16000)
    ref = resample_poly(y, 16000 // g, orig_sr // g)
    assert abs(len(out) - len(ref)) <= 1
    n = min(len(out), len(ref))
    # Compare away from the edges, where the two filters' transients differ.
    inner = slice(200, n - 200)
    np.testing.assert_allclose(out[inner], ref[inner], atol=2e-3)


def test_sr_none_returns_file_rate(tmp_path):
    path = tmp_path / "n.wav"
    sf.write(path, _tone(22050), 22050)
    y, sr = load_audio(path, sr=None)
    assert sr == 22050 and len(y) == 22050


def test_output_in_range(tmp_path):
    path = tmp_path / "loud.wav"
    sf.write(path, np.full(1000, 0.999), 8000, subtype="FLOAT")
    assert np.abs(load_audio(path, sr=16000)).max() <= 1.0


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_audio(path)


def test_corrupt_file_names_path(tmp_path):
    path = tmp_path / "bad.wav"
    path.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(AudioReadError, match="bad.wav"):
        load_audio(path)
    assert issubclass(AudioReadError, ValueError)


def test_truncated_file(tmp_path):
    path = tmp_path / "t.flac"
    sf.write(path, _tone(16000), 16000, format="FLAC")
    data = path.read_bytes()
    path.write_bytes(data[:60])
    with pytest.raises(AudioReadError, match="t.flac"):
        load_audio(path)


def test_bad_sr(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, _tone(8000), 8000)
    with pytest.raises(ValueError, match="sr"):
        load_audio(path, sr=-5)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_float_files_with_non_finite_samples_are_named(tmp_path, bad):
    # Regression: inf was silently clipped to full scale, NaN failed later without
    # naming the file.
    import soundfile as sf

    from skvoice.io import AudioReadError, load_audio

    y = np.zeros(1600, dtype=np.float32)
    y[100] = bad
    path = tmp_path / "broken.wav"
    sf.write(path, y, 16000, subtype="FLOAT")
    with pytest.raises(AudioReadError, match="broken.wav.*(NaN|infinite)"):
        load_audio(path)


def test_paths_that_are_not_regular_files_are_named_and_never_read(tmp_path):
    # Regression: a FIFO hung `skvoice verify` (opening it for reading blocks
    # until a writer comes), and FIFOs, /dev/zero and folders were reported as
    # "no such audio file".
    import os

    from skvoice.io import LazyRecordings
    from skvoice.preprocessing import SilenceTrimmer

    fifo = tmp_path / "voice.wav"
    os.mkfifo(fifo)
    cases = {
        str(fifo): (AudioReadError, "named pipe"),
        "/dev/zero": (AudioReadError, "character device"),
        str(tmp_path): (IsADirectoryError, "folder"),
    }
    for path, (error, what) in cases.items():
        with pytest.raises(error, match=what):
            load_audio(path)
        # The same from paths in a pipeline: named with the recording's index.
        with pytest.raises(error, match=f"Recording 0: .*{what}"):
            SilenceTrimmer().fit(LazyRecordings([path]))


def test_a_file_object_is_read_with_its_path_in_messages(tmp_path):
    from skvoice.io._files import open_regular, read_capped

    path = tmp_path / "x.bin"
    path.write_bytes(b"0123456789")
    with open_regular(path) as fh:
        assert fh.name == str(path)
        assert read_capped(fh, 10, "x") == b"0123456789"
    with open_regular(path) as fh, pytest.raises(ValueError, match="larger than 9 bytes"):
        read_capped(fh, 9, "x")


def test_decode_audio_equals_load_audio(tmp_path):
    import io

    import soundfile as sf

    from skvoice.io import AudioReadError, decode_audio, load_audio

    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal((8000, 2))).astype(np.float32)
    path = tmp_path / "a.flac"
    sf.write(path, y, 8000)
    np.testing.assert_array_equal(decode_audio(path.read_bytes(), sr=16000), load_audio(path))
    z, rate = decode_audio(path.read_bytes(), sr=None, mono=False)
    assert rate == 8000 and z.shape == (2, 8000)
    with pytest.raises(AudioReadError, match="empty"):
        decode_audio(b"")
    with pytest.raises(AudioReadError, match="Format not recognised"):
        decode_audio(b"not audio at all")
    with pytest.raises(TypeError, match="bytes"):
        decode_audio("a.wav")
    buf = io.BytesIO()
    sf.write(buf, np.full(100, np.nan, np.float32), 8000, format="WAV", subtype="FLOAT")
    with pytest.raises(AudioReadError, match="NaN"):
        decode_audio(buf.getvalue())
