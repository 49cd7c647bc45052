"""Probe the access-decision and fail-safe cases; print one table row each.

Usage: python tools/probe_decisions.py [--out FILE]
       python tools/probe_decisions.py --join BEFORE_FILE AFTER_FILE

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
        ver = EnrollmentVerifier().fit(E, names, groups=spk)
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
        m["steps"][-1]["state"]["n_outputs"] = 2**23
        m["steps"][-1]["state"]["objective_"] = "binary"
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
        ver = m["steps"][-1]["state"].get("verifier_")
        if ver:
            ver["state"]["calibration"] = [0.0, 50.0]
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


# --- The fail-safe issue's cases ------------------------------------------------

# A child that loads a model or runs the CLI under a memory cap (current + 2 GiB)
# and a time limit, and reports what happened, its time and its peak memory.
_CHILD = (
    "import resource, sys, time\n"
    "def hwm():\n"
    "    status = open('/proc/self/status').read().splitlines()\n"
    "    return [int(l.split()[1]) for l in status if l.startswith('VmHWM')][0]\n"
    "vm = [int(l.split()[1]) * 1024 for l in open('/proc/self/status')\n"
    "      if l.startswith('VmSize')][0]\n"
    "import skvoice._persist, skvoice._cli\n"
    "before = hwm()\n"
    "resource.setrlimit(resource.RLIMIT_AS, (vm + 2 * 2**30, vm + 2 * 2**30))\n"
    "t = time.perf_counter()\n"
    "try:\n"
    "    if sys.argv[1] == 'load':\n"
    "        skvoice._persist.load_model(sys.argv[2]); r = 'loaded'\n"
    "    else:\n"
    "        import contextlib, io\n"
    "        out = io.StringIO()\n"
    "        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):\n"
    "            code = skvoice._cli.main(sys.argv[2:])\n"
    "        rows = out.getvalue().strip()\n"
    "        r = f'exit {code}, {len(rows.splitlines())} stdout lines'\n"
    "except BaseException as e:\n"
    "    r = f'{type(e).__name__}: {str(e)[:70]}'\n"
    "print(f'{r}; {time.perf_counter() - t:.1f} s; peak +{(hwm() - before) / 1024:.0f} MiB')\n"
)


def child(*args, timeout=60):
    try:
        res = subprocess.run(
            [sys.executable, "-c", _CHILD, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return f"still running after {timeout} s (killed)"
    text = res.stdout.strip() or (res.stderr.strip().splitlines() or ["?"])[-1]
    return text.replace("|", "/")[:140]


def _tiny_specs(seed=0, n_speakers=6, per=4):
    rng = np.random.default_rng(seed)
    X = [rng.standard_normal((8, 20)).astype(np.float32) + k % 3 for k in range(n_speakers * per)]
    spk = np.repeat([f"s{i}" for i in range(n_speakers)], per)
    return X, spk


def _tiny_cnn(**kw):
    from skvoice.neural_network import CNNClassifier

    return CNNClassifier(
        module__n_filters=4, module__n_blocks=1, crop_frames=8, max_epochs=2, random_state=0, **kw
    )


def failsafe_cases(tmp, model_path, pipe, v):
    import soundfile as sf
    import torch
    from sklearn.pipeline import make_pipeline

    from skvoice import save_model
    from skvoice.preprocessing import SilenceTrimmer, SpectrogramExtractor
    from skvoice.uncertainty import MCDropoutClassifier

    rows = {}
    allowed = v.data[np.flatnonzero(v.target == 1)[0]]
    refused = v.data[np.flatnonzero(v.target == 0)[0]]
    paths = {}
    for name, y in (("allowed", allowed), ("refused", refused)):
        paths[name] = os.path.join(tmp, f"{name}.wav")
        sf.write(paths[name], y, v.sr)

    # 1. String labels, no pos_label, no speakers: which label is allowed?
    def strings():
        names = np.where(v.target == 1, "allowed", "refused")
        p = make_pipeline(
            SilenceTrimmer(), SpectrogramExtractor(n_mels=32), _tiny_cnn(objective="binary")
        ).fit(v.data, names)
        path = save_model(p, os.path.join(tmp, "strings.skvoice"))
        verdict = child("cli", "verify", path, paths["refused"], "--passes", "2", "--quiet")
        return f"pos_label_={p[-1].pos_label_!r}; verify on a refused voice: {verdict}"

    rows["1. labels allowed/refused, no pos_label, no speakers"] = outcome(strings)

    # 2. The wrapper and its network.
    def wrapper():
        X, spk = _tiny_specs()
        y = np.isin(spk, ["s0", "s1"]).astype(int)
        mc = MCDropoutClassifier(_tiny_cnn(pos_label=0), n_passes=2, target_far=0.2, cv=2)
        mc.fit(X, 1 - y, groups=spk)
        return f"wrapper pos_label_={mc.pos_label_!r}, network {mc.estimator_.pos_label_!r}"

    rows["2. MCDropoutClassifier(CNNClassifier(pos_label=0), target_far=0.2)"] = outcome(wrapper)

    def wrapper_given():
        X, spk = _tiny_specs()
        y = np.isin(spk, ["s0", "s1"]).astype(int)
        mc = MCDropoutClassifier(_tiny_cnn(), n_passes=2, pos_label=0).fit(X, 1 - y, groups=spk)
        return f"wrapper pos_label_={mc.pos_label_!r}, network {mc.estimator_.pos_label_!r}"

    rows["2. MCDropoutClassifier(CNNClassifier(), pos_label=0)"] = outcome(wrapper_given)

    # 3. An unreachable target.
    def unreachable():
        from skvoice.verification import EnrollmentVerifier

        rng = np.random.default_rng(0)
        E = np.repeat(rng.standard_normal((8, 16)), 2, axis=0) + 0.5 * rng.standard_normal(
            (16, 16)
        )
        spk = np.repeat([f"s{i}" for i in range(8)], 2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            EnrollmentVerifier(target_far=0.05, cv=3).fit(E, np.isin(spk, ["s0", "s1"]), spk)
        said = [type(w.message).__name__ for w in caught if "target_far" in str(w.message)]
        return f"12 impostor recordings at 0.05: {said[0] if said else 'no warning'}"

    rows["3. target_far=0.05 with 12 impostor recordings"] = outcome(unreachable)

    # 4-6. Model files.
    fifo = os.path.join(tmp, "model.fifo")
    os.mkfifo(fifo)
    rows["4. /dev/zero as the model file"] = child("load", "/dev/zero", timeout=30)
    rows["4. a FIFO as the model file"] = child("load", fifo, timeout=30)
    with zipfile.ZipFile(model_path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    buf = io.BytesIO()
    torch.save({"cnnclassifier": {"w": torch.zeros(2**28, dtype=torch.uint8)}}, buf)
    bomb = os.path.join(tmp, "tensor.skvoice")
    import hashlib

    parts = {"manifest.json": members["manifest.json"], "weights.pt": buf.getvalue()}
    digests = {k: hashlib.sha256(d).hexdigest() for k, d in sorted(parts.items())}
    parts["integrity.json"] = json.dumps({"sha256": digests, "hmac_sha256": None}).encode()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    rows[f"5. weights.pt of a 2**28-byte tensor ({os.path.getsize(bomb) // 1024} KiB file)"] = (
        child("load", bomb)
    )
    for n in (20_000, 40_000):
        flood = os.path.join(tmp, f"flood{n}.skvoice")
        with zipfile.ZipFile(flood, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
            for i in range(n):
                zf.writestr(f"m{i}", b"")
        rows[f"6. {n} extra empty members"] = child("load", flood)

    # 7-8. verify on bad inputs.
    audio_fifo = os.path.join(tmp, "voice.fifo")
    os.mkfifo(audio_fifo)
    rows["7. verify on a FIFO as the audio file"] = child(
        "cli", "verify", model_path, audio_fifo, "--passes", "2", "--quiet", timeout=30
    )
    short = os.path.join(tmp, "short.wav")
    sf.write(short, np.full(10, 0.1, np.float32), v.sr)
    rows["8. verify --json on [allowed, 10-sample file]"] = child(
        "cli", "verify", model_path, paths["allowed"], short, "--json", "--passes", "2", "--quiet"
    )

    # 9. Late validation: the arguments refused before the files are read?
    data = os.path.join(tmp, "corpus")
    for i, (y, s) in enumerate(zip(v.data, v.speaker)):
        os.makedirs(os.path.join(data, s), exist_ok=True)
        sf.write(os.path.join(data, s, f"r{i}.wav"), y, v.sr)
    for flag in (["--epochs", "0"], ["--device", "tpu"]):
        args = ["train", data, "--allowed", "s00", "--out", os.path.join(tmp, "t.skvoice")]
        rows[f"9. train {' '.join(flag)}"] = child("cli", *args, *flag, "--quiet")

    # 10-11 on real speech: the shipped encoder's enrolment of the tests' subset
    # (two allowed speakers; their last recording held out of the enrolment).
    from skvoice.datasets import load_speaker_folder
    from skvoice.verification import make_enrollment_pipeline

    root = os.path.join(os.path.dirname(os.path.dirname(__file__)), "tests", "data")
    real = load_speaker_folder(
        os.path.join(root, "speechocean762", "WAVE"), allowed=["SPEAKER0120", "SPEAKER0736"]
    )
    spk = np.asarray(real.speaker)
    last = np.array([i == np.flatnonzero(spk == spk[i])[-1] for i in range(len(spk))])
    enrol = make_enrollment_pipeline(sr=real.sr).fit(
        [w for w, h in zip(real.data, last) if not h],
        np.asarray(real.target)[~last],
        enrollmentverifier__groups=spk[~last],
    )
    held = [w for w, h, t in zip(real.data, last, real.target) if h and t == 1]

    # 10. An 8 kHz array into a 16 kHz model (documented: arrays carry no rate).
    def rates():
        from skvoice.io import load_audio, resample

        y8 = resample(held[0], real.sr, 8000)
        p8 = os.path.join(tmp, "allowed8k.wav")
        sf.write(p8, y8, 8000)
        as_array = enrol.predict_proba([y8])[0, 1]
        as_path = enrol.predict_proba([load_audio(p8, sr=real.sr)])[0, 1]
        return f"P(allowed) array {as_array:.3f}; read from its file at 16 kHz {as_path:.3f}"

    rows["10. a held-out allowed utterance at 8 kHz (enrolment, real speech)"] = outcome(rates)

    # 11. Inner digital silence.
    def joined():
        y = np.r_[held[0], np.zeros(20 * real.sr, np.float32), held[1]]
        kept = len(SilenceTrimmer(sr=real.sr).fit_transform([y])[0]) / real.sr
        p = enrol.predict_proba([y, np.r_[held[0], held[1]]])[:, 1]
        total = len(y) / real.sr
        return f"{kept:.1f} s kept of {total:.1f} s; P {p[0]:.3f} (without the gap {p[1]:.3f})"

    rows["11. two held-out allowed utterances joined by 20 s of zeros (enrolment)"] = outcome(
        joined
    )

    # 12. Small things.
    from skvoice import load_model

    def unsigned():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_model(model_path, key=b"k", allow_unsigned=True)
        return os.path.relpath(caught[0].filename, os.path.dirname(os.path.dirname(__file__)))

    rows["12. UnsignedModelWarning points at"] = outcome(unsigned)
    rows["12. key=b''"] = outcome(lambda: load_model(model_path, key=b""))
    rows["12. mode of a saved model (umask 022)"] = outcome(
        lambda: oct(os.stat(model_path).st_mode & 0o777)
    )
    return rows


def main(out):
    warnings.simplefilter("ignore")
    rows = {"string labels allowed/refused (verifier)": case_string_labels()}
    with tempfile.TemporaryDirectory() as tmp:
        model_rows, path, pipe, v = model_cases(tmp)
        rows.update(model_rows)
        rows.update(cli_cases(tmp, path, v))
        rows.update(input_cases(tmp, pipe))
        rows.update(failsafe_cases(tmp, path, pipe, v))
    text = "\n".join(f"| {k} | {v} |" for k, v in rows.items())
    print(text)
    if out:
        open(out, "w").write(text + "\n")


def join(before, after):
    """One table of two runs' rows (``--out`` files), case by case."""

    def rows(path):
        out = {}
        for line in open(path).read().splitlines():
            case, _, result = line.strip("| ").partition(" | ")
            out[case] = result
        return out

    b, a = rows(before), rows(after)
    print("| case | before | after |\n|---|---|---|")
    for case in a:
        print(f"| {case} | {b.get(case, '(not probed)')} | {a[case]} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--join", nargs=2, metavar=("BEFORE", "AFTER"), help="join two runs' --out files"
    )
    args = parser.parse_args()
    if args.join:
        join(*args.join)
    else:
        main(args.out)
