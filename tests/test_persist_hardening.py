"""Model files from someone else: size caps, integrity, signatures, schema, fuzzing."""

import json
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skvoice._persist import (
    ModelFormatError,
    UnsignedModelWarning,
    load_model,
    save_model,
)

from .test_persist import fit_tiny_pipeline, rewrite


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    pipe, v = fit_tiny_pipeline()
    path = save_model(pipe, tmp_path_factory.mktemp("m") / "m.skvoice")
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        weights = zf.read("weights.pt")
    return path, manifest, weights, pipe.predict_proba(v.data[:4]), v.data[:4]


def _copy(manifest):
    return json.loads(json.dumps(manifest))


def test_signed_model_round_trip_and_wrong_key(saved, tmp_path):
    path, manifest, weights, proba, X = saved
    signed = rewrite(tmp_path / "s.skvoice", manifest, weights, key=b"k1")
    np.testing.assert_array_equal(load_model(signed, key=b"k1").predict_proba(X), proba)
    np.testing.assert_array_equal(load_model(signed).predict_proba(X), proba)  # no key: no check
    with pytest.raises(ModelFormatError, match="signature does not match"):
        load_model(signed, key=b"k2")


@pytest.mark.parametrize(
    "edit",
    ["accept everyone", "classes reversed", "extra enrolled speaker", "threshold lowered"],
)
def test_tampering_that_keeps_the_format_is_caught_by_the_signature(saved, tmp_path, edit):
    path, manifest, weights, _, _ = saved
    evil = _copy(manifest)
    net = evil["steps"][-1]["state"]
    ver = net["verifier_"]["state"]
    if edit == "accept everyone":
        ver["calibration"] = [0.0, 50.0]
    elif edit == "classes reversed":
        net["classes_"] = net["classes_"][::-1]
    elif edit == "extra enrolled speaker":
        ver["enrolled_"]["intruder"] = ver["mean_"]
    else:
        net["threshold_"] = -1e9
    # The attacker recomputes the digests (they are not secret) but has no key.
    tampered = rewrite(tmp_path / "t.skvoice", evil, weights, key=b"wrong")
    with pytest.raises(ModelFormatError, match="signature"):
        load_model(tampered, key=b"secret")
    unsigned = rewrite(tmp_path / "u.skvoice", evil, weights)
    with pytest.raises(ModelFormatError, match="not signed"):
        load_model(unsigned, key=b"secret")
    with pytest.warns(UnsignedModelWarning):
        load_model(unsigned, key=b"secret", allow_unsigned=True)


def test_corruption_is_caught_by_the_digest(saved, tmp_path):
    path, manifest, weights, _, _ = saved
    # A stored (uncompressed) member with one byte changed and a fixed-up CRC, so
    # that only the SHA-256 can notice.
    good = rewrite(tmp_path / "g.skvoice", manifest, weights)
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    w = bytearray(members["weights.pt"])
    w[len(w) // 2] ^= 0x01
    with zipfile.ZipFile(tmp_path / "c.skvoice", "w") as zf:
        zf.writestr("manifest.json", members["manifest.json"])
        zf.writestr("weights.pt", bytes(w))
        zf.writestr("integrity.json", members["integrity.json"])
    with pytest.raises(ModelFormatError, match="corrupted"):
        load_model(tmp_path / "c.skvoice")


def test_duplicate_and_unknown_members_are_refused(saved, tmp_path):
    path, manifest, weights, _, _ = saved
    dup = rewrite(tmp_path / "d.skvoice", manifest, weights)
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(dup, "a") as zf:
            zf.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="duplicate members"):
        load_model(dup)
    extra = rewrite(tmp_path / "e.skvoice", manifest, weights)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("payload.py", "import os")
    with pytest.raises(ModelFormatError, match="unexpected members"):
        load_model(extra)


def test_local_resources_never_come_from_the_file(saved, tmp_path):
    path, manifest, weights, proba, X = saved
    evil = _copy(manifest)
    evil["steps"][0]["params"]["n_jobs"] = 512
    evil["steps"][-1]["params"]["checkpoint_dir"] = "/etc"
    evil["steps"][-1]["params"]["device"] = "cuda:7"
    model = load_model(rewrite(tmp_path / "r.skvoice", evil, weights))
    assert model[0].n_jobs is None
    assert model[-1].checkpoint_dir is None and model[-1].device == "cpu"
    np.testing.assert_array_equal(model.predict_proba(X), proba)


def _schema_edits(manifest):
    m = _copy
    yield "no steps", {**m(manifest), "steps": []}
    yield "steps not a list", {**m(manifest), "steps": {"a": 1}}
    bare = m(manifest)
    bare["steps"] = bare["steps"][:1]
    yield "no network step", bare
    bad = m(manifest)
    bad["steps"][0]["params"]["frame_length"] = -3
    yield "invalid parameter", bad
    bad = m(manifest)
    bad["steps"][0]["params"]["evil"] = 1
    yield "unknown parameter", bad
    bad = m(manifest)
    bad["steps"][-1]["state"]["speaker_class_"] = [7] * len(
        bad["steps"][-1]["state"]["speaker_class_"]
    )
    yield "speaker class out of range", bad
    bad = m(manifest)
    bad["steps"][-1]["state"]["pos_label_"] = 5
    yield "pos_label not a class", bad
    bad = m(manifest)
    bad["steps"][-1]["state"]["verifier_"]["state"]["mean_"] = [1.0, 2.0]
    yield "verifier width", bad
    bad = m(manifest)
    bad["steps"][-1]["state"]["n_features_in_"] = "32"
    yield "wrong type", bad
    bad = m(manifest)
    bad["steps"][-1]["state"]["threshold_"] = float("nan")
    yield "nan threshold", bad
    bad = m(manifest)
    bad["steps"][0]["params"]["sr"] = {"skvoice_estimator": {"class": "os.system", "params": {}}}
    yield "unknown nested class", bad
    nested = {"class": "SilenceTrimmer", "params": {}}
    for _ in range(6):
        inner = [["t", {"skvoice_estimator": nested}]]
        nested = {"class": "ChannelUnion", "params": {"transformer_list": inner}}
    bad = m(manifest)
    bad["steps"][0] = {"name": "deep", "state": {}, **nested}
    yield "estimators nested too deep", bad
    bad = m(manifest)
    bad["steps"][0]["state"] = {"injected": 1}
    yield "state given to a stateless step", bad
    # Too deep for the json module to write: by hand.
    deep = json.dumps(manifest).replace('"sr": 16000', '"sr": ' + "[" * 100_000 + "]" * 100_000)
    assert deep != json.dumps(manifest)
    yield "deep nesting", deep


def test_every_inconsistent_manifest_is_a_model_format_error(saved, tmp_path):
    path, manifest, weights, _, _ = saved
    for i, (what, evil) in enumerate(_schema_edits(manifest)):
        bad = rewrite(tmp_path / f"{i}.skvoice", evil, weights)
        try:
            load_model(bad)
        except ModelFormatError:
            continue
        pytest.fail(f"a manifest with {what} loaded")


def test_a_bare_network_loads(saved, tmp_path):
    path, manifest, weights, proba, X = saved
    model = load_model(path)
    bare = save_model(model[-1], tmp_path / "bare.skvoice")
    assert len(load_model(bare)) == 1


def test_files_of_development_formats_are_refused(saved, tmp_path):
    """Nothing was released before 0.1.0: formats 1 to 3 are refused, not migrated."""
    _, manifest, weights, _, _ = saved
    for version in (1, 2, 3):
        old = rewrite(
            tmp_path / f"v{version}.skvoice", {**manifest, "format_version": version}, weights
        )
        with pytest.raises(ModelFormatError, match="format 4 only.*not read"):
            load_model(old)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_files_load_identically_or_fail_cleanly(saved, tmp_path, data):
    path, _, _, proba, X = saved
    raw = bytearray(open(path, "rb").read())
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice"]))
    if kind == "flip":
        for i in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=4)):
            raw[i] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    else:
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=64))
    bad = tmp_path / "fuzz.skvoice"
    bad.write_bytes(bytes(raw))
    try:
        model = load_model(bad)
    except ModelFormatError:
        return
    # What still loads carries the same content (a flip in zip metadata only).
    np.testing.assert_array_equal(model.predict_proba(X), proba)


_BOUNDED = textwrap.dedent(
    """
    import io, json, resource, sys, zipfile
    import numpy as np
    from skvoice._persist import ModelFormatError, load_model
    good = sys.argv[1]
    load_model(good)  # warm up: imports, thread pools
    vm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize")][0]
    limit = vm + 768 * 2**20  # the bombs below would need several GiB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    rng = np.random.default_rng(0)
    data = open(good, "rb").read()
    failures = 0
    for path in sys.argv[2:]:
        try:
            load_model(path)
            raise SystemExit(f"{path} loaded")
        except ModelFormatError:
            failures += 1
    for k in range(150):
        raw = bytearray(data)
        for i in rng.integers(0, len(raw), rng.integers(1, 5)):
            raw[i] ^= int(rng.integers(1, 256))
        open("fuzz.skvoice", "wb").write(bytes(raw))
        try:
            load_model("fuzz.skvoice")
        except ModelFormatError:
            failures += 1
    print("bounded", failures)
    """
)


def test_bombs_and_fuzz_fail_within_bounded_memory(saved, tmp_path):
    path, manifest, weights, _, _ = saved
    # A 13 KiB-scale manifest declaring 2**26 outputs (a 4.7 GiB head if built).
    huge = _copy(manifest)
    huge["steps"][-1]["state"]["n_outputs"] = 67108864
    huge["steps"][-1]["state"]["speakers_"] = []
    bomb_outputs = rewrite(tmp_path / "outputs.skvoice", huge, weights)
    # A network parameter that would build a 2**24-wide embedding layer: the
    # declared shapes are compared with the weights' before anything is built.
    wide = _copy(manifest)
    wide["steps"][-1]["params"]["module__embedding_dim"] = 2**24
    bomb_width = rewrite(tmp_path / "width.skvoice", wide, weights)
    # A small zip whose manifest unpacks to 64 MiB of spaces.
    padded = json.dumps(manifest) + " " * (64 * 2**20)
    bomb_zip = tmp_path / "zip.skvoice"
    with zipfile.ZipFile(bomb_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", padded)
        zf.writestr("weights.pt", weights)
    assert bomb_zip.stat().st_size < 2**20
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _BOUNDED,
            str(path),
            str(bomb_outputs),
            str(bomb_width),
            str(bomb_zip),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split()[0] == "bounded"


# --- Paths that are not regular files, tensor bombs, member floods -----------


def test_devices_fifos_and_folders_are_refused_without_reading(tmp_path):
    import os

    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    # Opening a FIFO for reading would block until a writer came: refused first.
    for path, what in ((fifo, "named pipe"), ("/dev/zero", "character device")):
        with pytest.raises(ModelFormatError, match=what):
            load_model(path)
    with pytest.raises(IsADirectoryError, match="folder"):
        load_model(tmp_path)
    with pytest.raises(FileNotFoundError, match="No such model file"):
        load_model(tmp_path / "missing.skvoice")


def _tensor_bomb(saved, tmp_path, n=2**28):
    """The saved manifest with weights holding one ``n``-byte zero tensor (deflated)."""
    import io

    import torch

    path, manifest, _, _, _ = saved
    buf = io.BytesIO()
    torch.save({"cnnclassifier": {"trunk.head.weight": torch.zeros(n, dtype=torch.uint8)}}, buf)
    bomb = tmp_path / "tensor.skvoice"
    rewrite(bomb, manifest, buf.getvalue())
    # rewrite stores; deflate the members so that the file stays small.
    with zipfile.ZipFile(bomb) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return bomb


def test_a_tensor_bomb_is_refused_by_the_manifest_budget(saved, tmp_path):
    bomb = _tensor_bomb(saved, tmp_path, n=2**24)
    assert bomb.stat().st_size < 2**20
    with pytest.raises(ModelFormatError, match=r"weights\.pt declares \d+ bytes"):
        load_model(bomb)


def test_extra_weight_records_are_refused_before_torch_reads_them(saved, tmp_path):
    import io

    import torch

    path, manifest, weights, _, _ = saved
    state = torch.load(io.BytesIO(weights), weights_only=True)
    state["cnnclassifier"]["extra"] = torch.zeros(4)  # small: within the byte budget
    buf = io.BytesIO()
    torch.save(state, buf)
    with pytest.raises(ModelFormatError, match="tensors; the manifest declares"):
        load_model(rewrite(tmp_path / "x.skvoice", manifest, buf.getvalue()))


def test_a_member_flood_is_refused_at_once_with_a_short_message(saved, tmp_path):
    import time

    path, manifest, weights, _, _ = saved
    flood = rewrite(tmp_path / "flood.skvoice", manifest, weights)
    with zipfile.ZipFile(flood, "a") as zf:
        for i in range(40_000):
            zf.writestr(f"m{i}", b"")
    start = time.perf_counter()
    with pytest.raises(ModelFormatError, match="lists 40003 members") as info:
        load_model(flood)
    # Refused from the end record: no per-member work (was 24 s, quadratic).
    assert time.perf_counter() - start < 2.0
    assert len(str(info.value)) < 300


def test_duplicate_names_are_listed_briefly(saved, tmp_path):
    import warnings

    path, manifest, weights, _, _ = saved
    dup = rewrite(tmp_path / "d.skvoice", manifest, weights)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(dup, "a") as zf:
            zf.writestr("weights.pt", weights)
            zf.writestr("manifest.json", b"{}")
    with pytest.raises(
        ModelFormatError, match=r"duplicate members \['manifest.json', 'weights.pt'\]"
    ):
        load_model(dup)


def test_an_empty_key_is_named(saved, tmp_path):
    path = saved[0]
    for key in (b"", ""):
        with pytest.raises(ValueError, match="signing key is empty"):
            load_model(path, key=key)
        with pytest.raises(ValueError, match="signing key is empty"):
            save_model(load_model(path), tmp_path / "m.skvoice", key=key)


def test_unsigned_model_warning_points_at_the_caller(saved):
    with pytest.warns(UnsignedModelWarning) as record:
        load_model(saved[0], key=b"k", allow_unsigned=True)
    assert record[0].filename == __file__


_NEW_BOMBS = textwrap.dedent(
    """
    import os, resource, signal, sys
    from skvoice._persist import ModelFormatError, load_model
    load_model(sys.argv[1])  # warm up: imports, thread pools
    vm = [int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize")][0]
    limit = vm + 768 * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.alarm(60)  # a FIFO that blocked or a device read forever would end here
    for path in sys.argv[2:]:
        try:
            load_model(path)
            raise SystemExit(f"{path} loaded")
        except ModelFormatError as exc:
            assert len(str(exc)) < 400, str(exc)
    print("bounded")
    """
)


def test_new_bombs_fail_within_bounded_memory_and_time(saved, tmp_path):
    import os

    path = saved[0]
    fifo = tmp_path / "fifo.skvoice"
    os.mkfifo(fifo)
    bomb = _tensor_bomb(saved, tmp_path)  # 2**28 bytes unpacked from under 1 MiB
    _, manifest, weights, _, _ = saved
    flood = rewrite(tmp_path / "flood.skvoice", manifest, weights)
    with zipfile.ZipFile(flood, "a") as zf:
        for i in range(20_000):
            zf.writestr(f"m{i}", b"")
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            _NEW_BOMBS,
            str(path),
            "/dev/zero",
            str(fifo),
            str(bomb),
            str(flood),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == ["bounded"]


def test_model_files_are_private_to_their_owner(saved, tmp_path):
    """Documented: mode 0600 whatever the umask (an enrolment holds voice templates)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = save_model(load_model(saved[0]), tmp_path / "private.skvoice")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_an_end_record_that_understates_the_members_is_caught(saved, tmp_path):
    # zipfile reads the directory by its size, not by the end record's count: a
    # record saying 3 over a directory of 13 entries must not hide the other 10
    # (among them a second manifest.json, which would replace the first).
    import struct

    path, manifest, weights, _, _ = saved
    liar = rewrite(tmp_path / "liar.skvoice", manifest, weights)
    with zipfile.ZipFile(liar, "a") as zf:
        for i in range(10):
            zf.writestr(f"m{i}", b"")
    raw = bytearray(liar.read_bytes())
    at = raw.rfind(b"PK\x05\x06")
    raw[at + 8 : at + 12] = struct.pack("<2H", 3, 3)
    liar.write_bytes(bytes(raw))
    with pytest.raises(ModelFormatError, match="lists 13 members"):
        load_model(liar)
