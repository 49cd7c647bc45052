"""skvoice serve: decisions over HTTP on loopback, every bad request a clear 4xx."""

import http.client
import io
import json
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from skvoice._cli import build_parser

from .test_persist import fit_tiny_pipeline


def _wav(y, sr=16000, fmt="WAV"):
    buf = io.BytesIO()
    sf.write(buf, y, sr, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def server():
    from skvoice._serve import make_server

    pipe, v = fit_tiny_pipeline()
    args = SimpleNamespace(
        threshold=None, passes=2, max_bytes=200_000, max_seconds=3.0, timeout=2.0, quiet=True
    )
    srv = make_server(pipe, pipe[-1], args, port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, pipe, v
    srv.shutdown()
    srv.server_close()


def _request(srv, method, path, body=None, headers=None):
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, json.loads(res.read() or b"null")
    finally:
        conn.close()


def test_listens_on_loopback_by_default():
    args = build_parser().parse_args(["serve", "m.skvoice"])
    assert args.host == "127.0.0.1"


def test_decides_as_verify_does(server):
    srv, pipe, v = server
    k = int(np.flatnonzero(v.target == 1)[0])
    status, row = _request(srv, "POST", "/verify", _wav(v.data[k]))
    assert status == 200
    assert row["decision"] in ("accept", "refuse") and 0 <= row["probability"] <= 1
    p = pipe.predict_proba([v.data[k]])[0, list(pipe[-1].classes_).index(1)]
    assert row["probability"] == pytest.approx(p, abs=1e-3)
    assert _request(srv, "GET", "/health") == (200, {"status": "ok"})
    # FLAC at 44.1 kHz is resampled, as load_audio would.
    status, _ = _request(srv, "POST", "/verify", _wav(v.data[k], sr=44100, fmt="FLAC"))
    assert status == 200


@pytest.mark.parametrize(
    "method, path, body, headers, status, says",
    [
        ("POST", "/verify", b"", {}, 400, "empty"),
        ("POST", "/verify", b"not audio, a text file", {}, 415, "Not audio"),
        ("POST", "/verify", b"x" * 10, {"Content-Length": "999999999"}, 413, "bytes"),
        ("POST", "/other", b"x", {}, 404, "No '/other'"),
        ("GET", "/verify", None, {}, 405, "POST an audio file"),
        ("DELETE", "/verify", None, {}, 405, "not served"),
        ("POST", "/verify", b"x", {"Content-Length": "many"}, 400, "not a number"),
    ],
)
def test_bad_requests_are_clear_4xx(server, method, path, body, headers, status, says):
    srv, _, _ = server
    got, payload = _request(srv, method, path, body, headers)
    assert got == status and says in payload["error"]


def test_bounds_on_the_audio(server):
    srv, _, v = server
    long = np.tile(v.data[0], 4)  # 4 s, over the 3 s bound
    status, payload = _request(srv, "POST", "/verify", _wav(long))
    assert status == 413 and "3 s" in payload["error"]
    status, payload = _request(srv, "POST", "/verify", _wav(v.data[0][::4], sr=4000))
    assert status == 422 and "4000 Hz" in payload["error"]
    status, payload = _request(srv, "POST", "/verify", _wav(np.full(40, 0.1, np.float32)))
    assert status == 422  # too short to decide on


def test_many_requests_one_after_another_all_answered(server):
    srv, _, v = server
    body = _wav(v.data[0])
    assert {_request(srv, "POST", "/verify", body)[0] for _ in range(20)} == {200}


def test_concurrent_requests_all_answered(server):
    srv, _, v = server
    body = _wav(v.data[1])
    statuses = []

    def hit():
        statuses.append(_request(srv, "POST", "/verify", body)[0])

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 8
