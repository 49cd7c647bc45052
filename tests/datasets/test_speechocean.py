"""speechocean762: the loader, the verified download, and real speech through skvoice."""

import hashlib
import http.server
import io
import shutil
import tarfile
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skvoice.datasets import fetch_speechocean762, load_speechocean762
from skvoice.datasets._speechocean import _audio_digest
from tests.conftest import SPEECHOCEAN762_MINI


def test_load_the_shipped_subset(real_speech):
    so = real_speech
    assert len(so.data) == 48 and len(set(so.speaker)) == 12
    # 6 female and 6 male adults, 4 utterances each, every field aligned.
    for s in set(so.speaker):
        rows = so.speaker == s
        assert rows.sum() == 4 and len(set(so.gender[rows])) == 1
    assert sorted(so.gender[::4].tolist()).count("f") == 6
    assert np.all(so.age >= 18) and all(t.isupper() for t in so.text)
    assert so.sr == 16000 and np.all(so.target == 0)
    for y, f in zip(so.data[:3], so.filename[:3]):
        ref, sr = sf.read(f, dtype="float32")
        assert sr == 16000
        np.testing.assert_array_equal(y, ref)
    assert so.filenames is so.filename
    paths = load_speechocean762(SPEECHOCEAN762_MINI, subset="test", return_paths=True)
    assert paths.data == list(so.filename)
    allowed = load_speechocean762(
        SPEECHOCEAN762_MINI, subset="test", allowed=["0120"], return_paths=True
    )
    np.testing.assert_array_equal(allowed.target, (so.speaker == "0120").astype(int))


def test_load_errors(tmp_path):
    with pytest.raises(ValueError, match="subset"):
        load_speechocean762(SPEECHOCEAN762_MINI, subset="dev")
    with pytest.raises(FileNotFoundError, match="train/wav.scp"):
        load_speechocean762(SPEECHOCEAN762_MINI, subset="train")
    with pytest.raises(FileNotFoundError, match="No speechocean762 corpus"):
        load_speechocean762(tmp_path)
    copy = tmp_path / "so"
    shutil.copytree(SPEECHOCEAN762_MINI, copy)
    next((copy / "WAVE").rglob("*.flac")).unlink()
    with pytest.raises(FileNotFoundError, match="1 audio file"):
        load_speechocean762(copy, subset="test")


def _archive(tmp_path, alter=False):
    """A tar.gz laid out as OpenSLR's (one top folder), from the shipped subset."""
    src = tmp_path / "src" / "speechocean762"
    shutil.copytree(SPEECHOCEAN762_MINI, src)
    if alter:
        f = sorted((src / "WAVE").rglob("*.flac"))[0]
        y, sr = sf.read(f, dtype="int16")
        sf.write(f, y // 2, sr, subtype="PCM_16")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src, arcname="speechocean762")
    return buf.getvalue()


class _Server:
    """A loopback HTTP server that serves one archive."""

    def __init__(self, payload):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/speechocean762.tar.gz"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_fetch_downloads_verifies_and_unpacks(tmp_path):
    payload = _archive(tmp_path)
    digest, n = _audio_digest(SPEECHOCEAN762_MINI)
    assert n == 48
    checksum = "sha256:" + hashlib.sha256(payload).hexdigest()
    home = tmp_path / "home"
    with _Server(payload) as server:
        so = fetch_speechocean762(
            home, subset="test", url=server.url, checksum=checksum, audio_sha256=digest
        )
    assert len(so.data) == 48 and (home / "speechocean762" / ".complete").exists()
    assert Path(so.filename[0]).is_relative_to(home / "speechocean762")
    # Later calls read the unpacked copy, without the network.
    again = fetch_speechocean762(home, subset="test", download_if_missing=False)
    np.testing.assert_array_equal(again.data[5], so.data[5])


def test_fetch_refuses_a_bad_archive_or_altered_audio(tmp_path):
    digest, _ = _audio_digest(SPEECHOCEAN762_MINI)
    with _Server(_archive(tmp_path / "a")) as server:
        with pytest.raises(OSError, match="Checksum mismatch"):
            fetch_speechocean762(
                tmp_path / "h1", url=server.url, checksum="sha256:" + "0" * 64, audio_sha256=digest
            )
    assert not list((tmp_path / "h1").glob("speechocean762*"))  # nothing half-written
    with _Server(_archive(tmp_path / "b", alter=True)) as server:
        with pytest.raises(OSError, match="does not match the published corpus"):
            fetch_speechocean762(tmp_path / "h2", url=server.url, audio_sha256=digest)
    assert not (tmp_path / "h2" / "speechocean762").exists()
    assert not list((tmp_path / "h2").glob(".speechocean762-extract-*"))
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_speechocean762(tmp_path / "h3", download_if_missing=False)


def test_trimmer_on_real_pauses(real_speech):
    import librosa

    from skvoice.preprocessing import SilenceTrimmer

    X = real_speech.data[:12]
    # Edges: the same cut as librosa on real recordings, and real silence removed.
    edges = SilenceTrimmer(top_db=30).fit(X)
    removed = []
    for y, yt in zip(X, edges.transform(X)):
        ref, _ = librosa.effects.trim(y, top_db=30, frame_length=2048, hop_length=512)
        np.testing.assert_array_equal(yt, ref)
        removed.append(1 - len(yt) / len(y))
    assert np.median(removed) > 0.05  # the corpus's files start and end in silence
    # Inner pauses: the kept intervals are librosa's non-silent intervals with the
    # gaps shorter than min_silence closed, merged here by hand.
    trim = SilenceTrimmer(
        top_db=30, frame_length=1024, hop_length=256, mode="all", min_silence=0.15
    ).fit(X)
    n_pauses = 0
    for y, iv in zip(X, trim.get_intervals(X)):
        split = librosa.effects.split(y, top_db=30, frame_length=1024, hop_length=256)
        merged = [list(split[0])]
        for start, end in split[1:]:
            if start - merged[-1][1] < 0.15 * 16000:
                merged[-1][1] = end
            else:
                merged.append([start, end])
        assert iv.tolist() == merged
        n_pauses += len(merged) - 1
    assert n_pauses > 0  # real read speech pauses between words


def test_f0_of_real_voices_is_human_and_stable_per_speaker(real_speech):
    import librosa

    from skvoice.preprocessing import F0Extractor

    X, spk = real_speech.data, real_speech.speaker
    tracks = F0Extractor(fmin=50.0, fmax=600.0).fit(X).transform(X)
    medians = np.array([np.nanmedian(t) for t in tracks])
    # Adult speaking pitch lies within about 80-350 Hz (the search range is wider).
    assert np.all((medians >= 80) & (medians <= 350))
    # A speaker's pitch is stable: every utterance within 25 % of the speaker's median.
    for s in set(spk):
        m = medians[spk == s]
        assert np.all(np.abs(m / np.median(m) - 1) < 0.25), (s, m)
    # An independent tracker (YIN, no HMM) agrees on the voiced frames.
    for y, t in zip(X[:12], tracks[:12]):
        yin = librosa.yin(y, fmin=50, fmax=600, sr=16000, frame_length=1024, hop_length=256)
        voiced = ~np.isnan(t)
        assert abs(np.median(yin[voiced]) / np.nanmedian(t) - 1) < 0.03
    # The corpus's gender labels do not always follow pitch (three of these twelve
    # adults have the other gender's typical F0, which YIN confirms), so no test
    # relies on them.


def test_pipeline_on_real_voices_rejects_unseen_impostors(real_speech):
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline

    from skvoice.neural_network import CNNClassifier
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

    X, spk, gender = real_speech.data, real_speech.speaker, real_speech.gender
    names = sorted(set(spk))
    f = [s for s in names if gender[spk == s][0] == "f"]
    m = [s for s in names if gender[spk == s][0] == "m"]
    allowed, unseen = f[:2] + m[:2], f[4:] + m[4:]
    y = np.isin(spk, allowed).astype(int)
    k = np.array([i - np.flatnonzero(spk == s)[0] for i, s in enumerate(spk)])
    # Train: 3 utterances of 4 allowed and 4 refused speakers. Test: their 4th
    # utterance and every utterance of 4 speakers never heard in training.
    train = ~np.isin(spk, unseen) & (k < 3)
    pipe = make_pipeline(
        SilenceTrimmer(), SpectrogramExtractor(), CNNClassifier(max_epochs=30, random_state=0)
    )
    pipe.fit([X[i] for i in np.flatnonzero(train)], y[train], cnnclassifier__groups=spk[train])
    test = np.flatnonzero(~train)
    scores = pipe.decision_function([X[i] for i in test])
    assert roc_auc_score(y[test], scores) >= 0.9  # chance is 0.5
