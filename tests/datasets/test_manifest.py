"""load_manifest: recordings chosen by a file list rather than by folders."""

import numpy as np
import pytest
import soundfile as sf

from skvoice.datasets import DuplicateRecordingWarning, load_manifest


def _files(root, n=4):
    names = []
    for i in range(n):
        name = f"r{i}.wav"
        sf.write(root / name, np.full(1600, 0.01 * (i + 1), np.float32), 16000)
        names.append(name)
    return names


def test_labels_speakers_and_relative_paths(tmp_path):
    names = _files(tmp_path)
    (tmp_path / "sub").mkdir()
    manifest = tmp_path / "sub" / "files.csv"
    rows = ["path,speaker,label"] + [
        f"../{n},{s},{lab}" for n, s, lab in zip(names, "aabc", ["allowed", "1", "0", "no"])
    ]
    manifest.write_text("\n".join(rows) + "\n")
    ds = load_manifest(manifest)
    assert ds.speaker.tolist() == ["a", "a", "b", "c"]
    assert ds.target.tolist() == [1, 1, 0, 0] and ds.allowed == ["a"]
    np.testing.assert_allclose(ds.data[2], np.full(1600, 0.03), atol=1e-4)
    # An allowed list that agrees is fine; one that does not is an error.
    assert load_manifest(manifest, allowed=["a"]).target.tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="disagrees with the manifest's labels"):
        load_manifest(manifest, allowed=["b"])


def test_without_labels_the_allowed_speakers_are_named(tmp_path):
    names = _files(tmp_path)
    manifest = tmp_path / "files.tsv"
    manifest.write_text("path\tspeaker\n" + "".join(f"{n}\t{s}\n" for n, s in zip(names, "abab")))
    ds = load_manifest(manifest, allowed=["b"], return_paths=True)
    assert ds.target.tolist() == [0, 1, 0, 1] and ds.data[0].endswith("r0.wav")
    with pytest.raises(ValueError, match="no label column"):
        load_manifest(manifest)


@pytest.mark.parametrize(
    "text, match",
    [
        ("file,who\nr0.wav,a\n", "missing"),
        ("path,speaker\n", "lists no recordings"),
        ("path,speaker,label\nr0.wav,a,maybe\n", "label 'maybe'"),
        ("path,speaker\nnothere.wav,a\n", "do not exist"),
        ("path,speaker,label\nr0.wav,a,1\nr1.wav,a,0\n", "both allowed and refused"),
    ],
)
def test_clear_errors(tmp_path, text, match):
    _files(tmp_path)
    manifest = tmp_path / "files.csv"
    manifest.write_text(text)
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        load_manifest(manifest, allowed=["a"])


def test_the_same_file_listed_twice_is_read_once(tmp_path):
    names = _files(tmp_path, 2)
    manifest = tmp_path / "files.csv"
    manifest.write_text(f"path,speaker\n{names[0]},a\n{names[1]},b\n{names[0]},b\n")
    with pytest.warns(DuplicateRecordingWarning):
        ds = load_manifest(manifest, allowed=["a"])
    assert ds.speaker.tolist() == ["a", "b"]
