"""Probe the access-decision cases of the decisions issue; print one table row each.

Usage: python tools/probe_decisions.py [--out FILE]

Runs against whichever skvoice is importable, so the same script measures a
revision before and after a change (``PYTHONPATH=<checkout> python ...``). Every
case is small (synthetic voices, a tiny network); the whole probe takes about a
minute on 2 cores.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile

import numpy as np


def outcome(fn):
    try:
        return fn()
    except Exception as exc:  # the probe reports whatever happens
        text = str(exc).splitlines()[0] if str(exc) else ""
        return f"{type(exc).__name__}: {text[:90]}"


def embeddings(n_speakers, per, seed):
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((n_speakers, 16))
    E = np.repeat(c, per, axis=0) + 0.7 * rng.standard_normal((n_speakers * per, 16))
    return E, np.repeat([f"s{i:02d}" for i in range(n_speakers)], per)


def case_string_labels():
    from skvoice.verification import EnrollmentVerifier

    E, spk = embeddings(20, 10, 0)
    names = np.where(np.isin(spk, ["s00", "s01", "s02"]), "allowed", "refused")
    unseen, _ = embeddings(40, 5, 1)

    def run():
        ver = EnrollmentVerifier().fit(E, names, speakers=spk)
        far = np.mean(ver.predict(unseen) == "allowed")
        return f"enrolled {len(ver.enrolled_)} speakers; FAR on unseen {far:.2f}"

    return outcome(run)


def fitted_model(tmp):
    from sklearn.pipeline import make_pipeline

    from skvoice import save_model
    from skvoice.datasets import make_voices
    from skvoice.neural_network import CNNClassifier
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

    v = make_voices(n_speakers=4, n_recordings=3, duration=1.0, random_state=0)
    pipe = make_pipeline(
        SilenceTrimmer(),
        SpectrogramExtractor(n_mels=32),
        CNNClassifier(
            module__n_filters=4, module__n_blocks=2, crop_frames=16, max_epochs=2, random_state=0
        ),
    )
    pipe.fit(v.data, v.target, cnnclassifier__groups=v.speaker)
    return save_model(pipe, os.path.join(tmp, "m.skvoice")), pipe, v


def variant(path, out, edit=None, extra=()):
    """A copy of ``path`` with ``edit(manifest)`` applied, digests recomputed."""
    import hashlib

    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    if isinstance(edit, str):
        text = edit
    else:
        text = json.dumps(edit(manifest) if edit else manifest)
    members["manifest.json"] = text.encode()
    if "integrity.json" in members:  # format 2: recompute, as anyone can
        digests = {
            k: hashlib.sha256(members[k]).hexdigest() for k in ("manifest.json", "weights.pt")
        }
        record = {"sha256": dict(sorted(digests.items())), "hmac_sha256": None}
        members["integrity.json"] = json.dumps(record).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, data in extra:
            zf.writestr(name, data)
    return out


# Peak resident memory of the child itself (VmHWM; ru_maxrss can carry the
# parent's peak across fork and exec).
_MEM = (
    "import sys\n"
    "from skvoice import load_model\n"
    "def hwm():\n"
    "    status = open('/proc/self/status').read().splitlines()\n"
    "    return [int(l.split()[1]) for l in status if l.startswith('VmHWM')][0]\n"
    "before = hwm()\n"
    "try:\n    load_model(sys.argv[1]); r = 'loaded'\n"
    "except Exception as e:\n    r = type(e).__name__\n"
    "print(f'{r}; peak memory +{(hwm() - before) / 1024:.0f} MiB')\n"
)


def in_child(path):
    res = subprocess.run(
        [sys.executable, "-c", _MEM, path], capture_output=True, text=True, timeout=600
    )
    return (res.stdout.strip() or res.stderr.strip().splitlines()[-1])[:100]


def model_cases(tmp):
    from skvoice import load_model

    path, pipe, v = fitted_model(tmp)
    rows = {}

    def bomb(m):
        m["network"]["n_outputs"] = 2**23
        m["network"]["objective_"] = "binary"
        return m

    rows["manifest declaring 2**23 outputs (a 4 GiB head)"] = in_child(
        variant(path, os.path.join(tmp, "b1"), bomb)
    )
    with zipfile.ZipFile(path) as zf:
        text = zf.read("manifest.json").decode()
    rows["manifest unpacking to 1 GiB"] = in_child(
        variant(path, os.path.join(tmp, "b2"), text + " " * 2**30)
    )
    with zipfile.ZipFile(path) as zf:
        m = json.loads(zf.read("manifest.json"))
    m["steps"][-1]["params"]["max_epochs"] = 99
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dup = variant(path, os.path.join(tmp, "dup"), extra=[("manifest.json", json.dumps(m))])
    rows["duplicate manifest.json member"] = outcome(
        lambda: f"loaded (max_epochs {load_model(dup)[-1].max_epochs})"
    )

    def jobs(m):
        m["steps"][0]["params"]["n_jobs"] = 512
        return m

    rows["n_jobs=512 in the file"] = outcome(
        lambda: (
            f"loaded, n_jobs={load_model(variant(path, os.path.join(tmp, 'j'), jobs))[0].n_jobs}"
        )
    )
    data = open(path, "rb").read()
    rng = np.random.default_rng(0)
    counts = {}
    for _ in range(200):
        raw = bytearray(data)
        raw[int(rng.integers(len(raw)))] ^= int(rng.integers(1, 256))
        open(os.path.join(tmp, "f"), "wb").write(bytes(raw))
        try:
            load_model(os.path.join(tmp, "f"))
            key = "loaded"
        except Exception as exc:
            key = type(exc).__name__
        counts[key] = counts.get(key, 0) + 1
    rows["200 single-byte flips"] = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))

    def no_steps(m):
        m["steps"] = []
        return m

    rows["steps: []"] = outcome(
        lambda: load_model(variant(path, os.path.join(tmp, "s"), no_steps))
    )
    deep = text.replace('"sr": 16000', '"sr": ' + "[" * 100000 + "]" * 100000, 1)
    rows["deeply nested JSON"] = outcome(
        lambda: load_model(variant(path, os.path.join(tmp, "d"), deep))
    )

    def accept_all(m):
        ver = m["network"].get("verifier_")
        if ver:
            ver["calibration"] = [0.0, 50.0]
        return m

    def tampered():
        model = load_model(variant(path, os.path.join(tmp, "t"), accept_all))
        return f"loaded; accepts {np.mean(model.predict(v.data) == 1):.0%} of all recordings"

    rows["calibration edited to accept all (no key)"] = outcome(tampered)
    return rows, path, pipe, v


def cli_cases(tmp, model_path, v):
    import soundfile as sf

    from skvoice._cli import main

    refused = os.path.join(tmp, "refused.wav")
    sf.write(refused, v.data[np.flatnonzero(v.target == 0)[0]], v.sr)
    rows = {}
    stdout = sys.stdout
    try:
        sys.stdout = io.StringIO()
        code = outcome(
            lambda: main(["verify", model_path, refused, "--passes", "2", "--threshold", "0.999"])
        )
    finally:
        sys.stdout = stdout
    rows["verify on a refused voice: exit status"] = str(code)
    for value in ("1.5", "nan"):
        try:
            sys.stdout = io.StringIO()
            args = ["verify", model_path, refused, "--threshold", value, "--passes", "2"]
            code = outcome(lambda args=args: main(args))
        except SystemExit as exc:
            code = f"usage error, exit {exc.code}"
        finally:
            sys.stdout = stdout
        rows[f"verify --threshold {value}"] = str(code)
    return rows


def input_cases(tmp, pipe):
    import soundfile as sf

    from skvoice.io import LazyRecordings, load_audio
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor

    rows = {}
    for n in (1, 10):
        rows[f"{n}-sample recording"] = outcome(
            lambda n=n: (
                f"p(allowed) = {pipe.predict_proba([np.full(n, 0.1, np.float32)])[0, 1]:.3f}"
            )
        )
    p8 = os.path.join(tmp, "8k.wav")
    sf.write(p8, np.random.default_rng(0).standard_normal(8000) * 0.1, 8000)

    def lazy():
        spec = SpectrogramExtractor().fit_transform(LazyRecordings([p8], sr=8000))[0]
        return f"transformed, {spec.shape[1]} frames"

    rows["LazyRecordings at 8 kHz into a 16 kHz extractor"] = outcome(lazy)
    for bad in ("inf", "nan"):
        path = os.path.join(tmp, f"{bad}.wav")
        y = np.zeros(1600, np.float32)
        y[5] = float(bad)
        sf.write(path, y, 16000, subtype="FLOAT")
        rows[f"float WAV holding {bad}"] = outcome(
            lambda path=path: f"loaded, max {np.nanmax(np.abs(load_audio(path))):.1f}"
        )

    def zeros():
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = SilenceTrimmer().fit_transform([np.zeros(16000, np.float32)])
        said = [str(x.message)[:60] for x in w] or ["no warning"]
        return f"{len(out[0])} samples kept; {said[0]}"

    rows["all-zero recording in the trimmer"] = outcome(zeros)
    return rows


def main(out):
    warnings.simplefilter("ignore")
    rows = {"string labels allowed/refused (verifier)": case_string_labels()}
    with tempfile.TemporaryDirectory() as tmp:
        model_rows, path, pipe, v = model_cases(tmp)
        rows.update(model_rows)
        rows.update(cli_cases(tmp, path, v))
        rows.update(input_cases(tmp, pipe))
    text = "\n".join(f"| {k} | {v} |" for k, v in rows.items())
    print(text)
    if out:
        open(out, "w").write(text + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    main(parser.parse_args().out)
