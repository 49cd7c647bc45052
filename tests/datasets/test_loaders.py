import hashlib
import io
import json
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skvoice.datasets import (
    DAPS_ALLOWED_SPEAKERS,
    fetch_daps,
    get_data_home,
    load_daps,
    load_speaker_folder,
)


def _write_daps(
    root, versions=("clean", "iphone_livingroom1"), speakers=("f1", "f2", "m3"), scripts=(1, 2)
):
    for i, v in enumerate(versions):
        (root / v).mkdir(parents=True)
        for j, s in enumerate(speakers):
            for k in scripts:
                # Distinct content per file (a loader leaves copies out).
                y = np.full(800, 0.1 * (1 + k) + 0.001 * (j + 10 * i), dtype=np.float32)
                sf.write(root / v / f"{s}_script{k}_{v}.wav", y, 8000, subtype="FLOAT")
    return root


def test_load_daps_fake_tree(tmp_path):
    root = _write_daps(tmp_path / "daps")
    (root / "clean" / "README.wav").write_bytes(b"x")  # not following the naming
    with pytest.warns(UserWarning, match="1 file"):
        d = load_daps(root, versions=("clean", "iphone_livingroom1"))
    assert len(d.data) == 12
    assert set(d.version) == {"clean", "iphone_livingroom1"}
    assert d.target[d.speaker == "f1"].all() and d.target[d.speaker == "m3"].all()
    assert not d.target[d.speaker == "f2"].any()
    assert len(d.skipped) == 1 and "README" in d.skipped[0]
    i = int(np.flatnonzero((d.speaker == "f2") & (d.script == "script2"))[0])
    assert len(d.data[i]) == 1600  # 8 kHz resampled to 16 kHz
    np.testing.assert_allclose(np.median(d.data[i]), 0.3, atol=1e-3)
    assert DAPS_ALLOWED_SPEAKERS == ("f1", "f7", "f8", "m3", "m6", "m8")


def test_load_daps_nested_and_all_versions(tmp_path):
    _write_daps(tmp_path / "outer" / "daps", versions=("clean", "produced"))
    d = load_daps(tmp_path / "outer", versions="all", n_jobs=2)
    assert sorted(set(d.version)) == ["clean", "produced"]


def test_load_daps_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_daps(tmp_path / "missing")
    _write_daps(tmp_path / "d", versions=("clean",))
    with pytest.raises(ValueError, match="ipad"):
        load_daps(tmp_path / "d", versions=("ipad_office1",))


def _archive(tmp_path):
    src = _write_daps(tmp_path / "src" / "daps", versions=("clean",))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src, arcname="daps")
    data = buf.getvalue()
    path = tmp_path / "daps.tar.gz"
    path.write_bytes(data)
    return path, "md5:" + hashlib.md5(data).hexdigest()


def test_fetch_daps_from_file_url(tmp_path):
    archive, checksum = _archive(tmp_path)
    home = tmp_path / "home"
    d = fetch_daps(home, url=archive.as_uri(), checksum=checksum)
    assert len(d.data) == 6
    assert (home / "daps" / ".complete").exists()
    # Second call: no download (a bad URL is never touched).
    d2 = fetch_daps(home, url="file:///nonexistent", checksum=checksum)
    assert len(d2.data) == 6


def test_fetch_daps_uses_record_checksum(tmp_path):
    archive, checksum = _archive(tmp_path)
    record = {
        "files": [
            {"key": "daps.tar.gz", "checksum": checksum, "links": {"self": archive.as_uri()}}
        ]
    }
    calls = []

    def opener(url):
        calls.append(url)
        if url.startswith("https://zenodo.org/api/records/4660670"):
            return io.BytesIO(json.dumps(record).encode())
        return open(url.removeprefix("file://"), "rb")

    d = fetch_daps(tmp_path / "home", opener=opener)
    assert len(d.data) == 6 and len(calls) == 2


def test_fetch_daps_bad_checksum_leaves_nothing(tmp_path):
    archive, _ = _archive(tmp_path)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="Checksum mismatch"):
        fetch_daps(home, url=archive.as_uri(), checksum="md5:" + "0" * 32)
    assert sorted(p.name for p in home.iterdir()) == []


def test_fetch_daps_interrupted_download_leaves_nothing(tmp_path):
    archive, checksum = _archive(tmp_path)
    payload = archive.read_bytes()

    class Broken(io.BytesIO):
        def read(self, n=-1):
            if self.tell() > len(payload) // 2:
                raise KeyboardInterrupt
            return super().read(min(n, 64))

    home = tmp_path / "home"
    with pytest.raises(KeyboardInterrupt):
        fetch_daps(
            home,
            url="https://example.invalid/daps.tar.gz",
            checksum=checksum,
            opener=lambda url: Broken(payload),
        )
    assert list(home.iterdir()) == []
    # A later call resumes cleanly.
    assert len(fetch_daps(home, url=archive.as_uri(), checksum=checksum).data) == 6


def test_fetch_daps_no_download(tmp_path):
    with pytest.raises(OSError, match="download_if_missing"):
        fetch_daps(tmp_path, download_if_missing=False)


def test_data_home_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SKVOICE_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"


def test_load_speaker_folder(tmp_path):
    for i, spk in enumerate(("ann", "bob", "cid")):
        (tmp_path / spk / "sub").mkdir(parents=True)
        for k in range(2):  # distinct content: copies would be left out
            sf.write(
                tmp_path / spk / "sub" / f"{k}.flac", np.full(160, 0.01 * (2 * i + k + 1)), 16000
            )
    d = load_speaker_folder(tmp_path, allowed=["ann", "cid"])
    assert d.speaker.tolist() == ["ann"] * 2 + ["bob"] * 2 + ["cid"] * 2
    assert d.target.tolist() == [1, 1, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="dan"):
        load_speaker_folder(tmp_path, allowed=["dan"])


def test_load_speaker_folder_pattern(tmp_path):
    for i, name in enumerate(("spk1_a.wav", "spk2_b.wav", "noise.wav")):
        sf.write(tmp_path / name, np.full(160, 0.01 * (i + 1)), 16000)
    d = load_speaker_folder(tmp_path, allowed=["spk1"], pattern=r"(?P<speaker>spk\d)_")
    assert d.speaker.tolist() == ["spk1", "spk2"] and d.target.tolist() == [1, 0]
    assert len(d.skipped) == 1


def test_return_paths_streams_the_same_recordings(tmp_path):
    from skvoice.preprocessing import SpectrogramExtractor

    root = _write_daps(tmp_path / "daps")
    decoded = load_daps(root)
    paths = load_daps(root, return_paths=True)
    assert all(isinstance(p, str) for p in paths.data)
    np.testing.assert_array_equal(paths.speaker, decoded.speaker)
    ext = SpectrogramExtractor(n_mels=16, n_fft=256, hop_length=64)
    for a, b in zip(ext.fit_transform(decoded.data), ext.fit_transform(paths.data)):
        np.testing.assert_allclose(a, b, atol=1e-5)
    folder = load_speaker_folder(
        root / "clean", allowed=["f1"], pattern=r"(?P<speaker>[fm]\d)_", return_paths=True
    )
    assert len(folder.data) == 6 and all(p.endswith(".wav") for p in folder.data)


def _dspspeech_tree(root):
    """A DSPSpeech-20-shaped folder: 2 speakers x 2 words x 2 repetitions, one copy."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    data = root / "speech_data"
    for spk in ("15300000001", "15300000002"):
        (data / spk).mkdir(parents=True)
        for word in (0, 12):
            for rep in (1, 2):
                y = (0.1 * rng.standard_normal(3200)).astype(np.float32)
                sf.write(data / spk / f"{spk}-{word:02d}-{rep:02d}.wav", y, 16000)
    # An exact copy under another name (the corpus holds such files), and a stray file.
    first = data / "15300000001" / "15300000001-00-01.wav"
    (data / "15300000001" / "15300000001-00-03.wav").write_bytes(first.read_bytes())
    (data / "15300000001" / "notes.wav").write_bytes(first.read_bytes())
    return root


def test_dspspeech20_loader_drops_exact_copies(tmp_path):
    from skvoice.datasets import DSPSPEECH20_WORDS, load_dspspeech20

    root = _dspspeech_tree(tmp_path)
    ds = load_dspspeech20(root, allowed=["15300000002"])
    assert len(ds.data) == 8 and ds.n_duplicates == 1
    dropped, kept = ds.duplicates[0]
    assert dropped.endswith("-00-03.wav") and kept.endswith("-00-01.wav")
    assert ds.target.tolist() == [0] * 4 + [1] * 4
    assert sorted(set(ds.word.tolist())) == [0, 12] and DSPSPEECH20_WORDS[12] == "Speech"
    assert ds.repetition.tolist()[:2] == [1, 2] and ds.sr == 16000
    assert ds.data[0].dtype == np.float32 and "MIT" in ds.DESCR
    # The speech_data folder itself works too; words filter; paths only.
    only = load_dspspeech20(root / "speech_data", words=[12], return_paths=True)
    assert len(only.data) == 4 and all(p.endswith(".wav") for p in only.data)
    with pytest.raises(ValueError, match="not in the corpus"):
        load_dspspeech20(root, allowed=["nobody"])
    with pytest.raises(ValueError, match="labels 0-19"):
        load_dspspeech20(root, words=[25])
    with pytest.raises(FileNotFoundError):
        load_dspspeech20(tmp_path / "missing")


def test_copies_of_a_recording_are_left_out_and_reported(tmp_path):
    # Regression: one DSPSpeech-20 speaker's repetitions were copies of three
    # recordings, so the "test" files were training files.
    import shutil

    import soundfile as sf

    from skvoice.datasets import DuplicateRecordingWarning, load_speaker_folder

    rng = np.random.default_rng(0)
    for speaker in ("alice", "bob"):
        (tmp_path / speaker).mkdir()
        for k in range(3):
            sf.write(tmp_path / speaker / f"{k}.wav", 0.1 * rng.standard_normal(1600), 16000)
    shutil.copy(tmp_path / "alice" / "0.wav", tmp_path / "alice" / "0_copy.wav")
    shutil.copy(tmp_path / "alice" / "1.wav", tmp_path / "bob" / "stolen.wav")
    with pytest.warns(DuplicateRecordingWarning, match="2 of 8 audio files"):
        ds = load_speaker_folder(tmp_path, allowed=["alice"])
    assert len(ds.data) == len(ds.target) == len(ds.speaker) == len(ds.filename) == 6
    assert sorted(Path(a).name for a, _ in ds.duplicates) == ["0_copy.wav", "stolen.wav"]
    kept = {Path(f).name for f in ds.filename}
    assert "0_copy.wav" not in kept and "stolen.wav" not in kept
    assert ds.target.sum() == 3  # alice's three distinct recordings
    # Without copies: no warning, an empty list.
    (tmp_path / "alice" / "0_copy.wav").unlink()
    (tmp_path / "bob" / "stolen.wav").unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DuplicateRecordingWarning)
        assert load_speaker_folder(tmp_path, allowed=["alice"]).duplicates == []
